// Package mcmsink is a strict local stand-in for the Moloco MCM User Event
// API. It checks every request as the real API would (path, key, headers,
// body rules), answers in the real API's error shape, records what it
// accepted with a count per event id, and injects faults on demand (5xx,
// 429 with Retry-After, latency, timeouts, full outage). Admin endpoints
// under /_sink/ read and steer it; the real API has none of them.
package mcmsink

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config configures a Sink.
type Config struct {
	PlatformID string
	APIKey     string
	Now        func() time.Time
}

// Faults are injected before an event is checked, so an injected failure
// never records the event.
type Faults struct {
	Rate5xx     float64       `json:"rate_5xx"`
	Rate429     float64       `json:"rate_429"`
	RetryAfter  time.Duration `json:"retry_after"` // sent with 429s
	Latency     time.Duration `json:"latency"`     // added to every call
	RateTimeout float64       `json:"rate_timeout"`
	Down        bool          `json:"down"` // every call 503
	// Unauthorized answers every call 401, as the API does while the key
	// it holds and ours differ (a rotation half done).
	Unauthorized bool `json:"unauthorized"`
	// Refuse400, when set, answers 400 to every event whose body contains
	// it, with a long message in a multi-byte script (as a localised
	// platform error may come): what the dead-letter reason has to survive.
	Refuse400 string `json:"refuse_400,omitempty"`
	// Lose answers 200 to every call and records nothing: the platform
	// losing events on its side after accepting them (a gap it reports
	// later), which only a replay from the archive can fill.
	Lose bool   `json:"lose,omitempty"`
	Seed uint64 `json:"seed"`
}

// RefusalMessage is the message of a Refuse400 answer: over 1 kB, and
// every byte offset past its first few falls inside or right after a
// two-byte character.
var RefusalMessage = "event refused: " + strings.Repeat("é", 600)

// Record is one accepted event.
type Record struct {
	ID   string          `json:"id"`
	Body json.RawMessage `json:"body"`
	At   time.Time       `json:"at"`
}

// Stats count what the sink saw.
type Stats struct {
	Requests    int `json:"requests"`
	Accepted    int `json:"accepted"`
	Rejected4xx int `json:"rejected_4xx"`
	Injected5xx int `json:"injected_5xx"`
	Injected429 int `json:"injected_429"`
	Injected401 int `json:"injected_401"`
	Injected400 int `json:"injected_400"`
	Timeouts    int `json:"timeouts"`
	Duplicates  int `json:"duplicates"`
	Lost        int `json:"lost"` // answered 200 under Faults.Lose, not recorded
}

// Sink is the stand-in; it is an http.Handler and safe for concurrent use.
type Sink struct {
	cfg  Config
	path string

	mu       sync.Mutex
	faults   Faults
	rng      *rand.Rand
	accepted []Record
	counts   map[string]int
	stats    Stats
	hang     chan struct{} // closed on Reset/Close to release hung calls
}

// timeoutCap bounds how long an injected timeout holds a call when the
// client does not give up first.
const timeoutCap = 30 * time.Second

// New returns a Sink.
func New(cfg Config) *Sink {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sink{cfg: cfg, path: "/rmp/event/v1/platforms/" + cfg.PlatformID + "/userevents",
		counts: map[string]int{}, hang: make(chan struct{})}
	s.SetFaults(Faults{})
	return s
}

// SetFaults replaces the fault settings.
func (s *Sink) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	s.mu.Unlock()
}

// Accepted returns the accepted events in order.
func (s *Sink) Accepted() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.accepted...)
}

// CountByID returns how many times each event id was accepted.
func (s *Sink) CountByID() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Stats returns the counters.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Reset forgets everything and clears the faults.
func (s *Sink) Reset() {
	s.mu.Lock()
	s.accepted, s.counts, s.stats = nil, map[string]int{}, Stats{}
	close(s.hang)
	s.hang = make(chan struct{})
	s.mu.Unlock()
	s.SetFaults(Faults{})
}

// ServeHTTP implements http.Handler.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sink/") {
		s.admin(w, r)
		return
	}
	// Read the body first: only then does the server notice a client that
	// hangs up, which is what ends an injected timeout.
	body, readErr := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	s.mu.Lock()
	s.stats.Requests++
	f := s.faults
	roll := s.rng.Float64()
	hang := s.hang
	s.mu.Unlock()

	if f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case f.Unauthorized:
		s.count(func(st *Stats) { st.Injected401++ })
		apiError(w, http.StatusUnauthorized, 16, "invalid API key")
		return
	case f.Refuse400 != "" && strings.Contains(string(body), f.Refuse400):
		s.count(func(st *Stats) { st.Injected400++ })
		apiError(w, http.StatusBadRequest, 3, RefusalMessage)
		return
	case f.Lose:
		s.count(func(st *Stats) { st.Lost++ })
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
		return
	case f.Down:
		s.count(func(st *Stats) { st.Injected5xx++ })
		apiError(w, http.StatusServiceUnavailable, 14, "service unavailable")
		return
	case roll < f.RateTimeout:
		s.count(func(st *Stats) { st.Timeouts++ })
		select { // hold the call until the client gives up
		case <-r.Context().Done():
		case <-hang:
		case <-time.After(timeoutCap):
		}
		return
	case roll < f.RateTimeout+f.Rate429:
		s.count(func(st *Stats) { st.Injected429++ })
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int(f.RetryAfter.Seconds())))
		}
		apiError(w, http.StatusTooManyRequests, 8, "request denied by throttler")
		return
	case roll < f.RateTimeout+f.Rate429+f.Rate5xx:
		s.count(func(st *Stats) { st.Injected5xx++ })
		apiError(w, http.StatusInternalServerError, 13, "internal error")
		return
	}
	status, code, msg := s.accept(r, body, readErr)
	if status != http.StatusOK {
		s.count(func(st *Stats) { st.Rejected4xx++ })
		apiError(w, status, code, msg)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, "{}")
}

// accept checks one request and records it when valid.
func (s *Sink) accept(r *http.Request, body []byte, readErr error) (int, int, string) {
	if r.URL.Path != s.path {
		return http.StatusNotFound, 5, "platform or resource not found: " + r.URL.Path
	}
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, 12, "method not allowed"
	}
	key := r.Header.Get("X-API-Key")
	if key == "" || subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.APIKey)) != 1 {
		return http.StatusUnauthorized, 16, "invalid API key"
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return http.StatusBadRequest, 3, "Content-Type must be application/json"
	}
	if readErr != nil || len(body) > 1<<20 {
		return http.StatusBadRequest, 3, "body unreadable or larger than 1 MiB"
	}
	if msg := check(body, s.cfg.Now()); msg != "" {
		return http.StatusBadRequest, 3, msg
	}
	var ev struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return http.StatusBadRequest, 3, "body is not a JSON object: " + err.Error()
	}
	s.mu.Lock()
	s.accepted = append(s.accepted, Record{ID: ev.ID, Body: body, At: s.cfg.Now()})
	s.counts[ev.ID]++
	s.stats.Accepted++
	if s.counts[ev.ID] > 1 {
		s.stats.Duplicates++
	}
	s.mu.Unlock()
	return http.StatusOK, 0, ""
}

func (s *Sink) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// apiError writes the real API's error shape, a JSON gRPC status.
func apiError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "details": []any{}})
}

func (s *Sink) admin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/_sink/stats" && r.Method == http.MethodGet:
		json.NewEncoder(w).Encode(s.Stats())
	case r.URL.Path == "/_sink/events" && r.Method == http.MethodGet:
		json.NewEncoder(w).Encode(map[string]any{"events": s.Accepted(), "count_by_id": s.CountByID()})
	case r.URL.Path == "/_sink/faults" && (r.Method == http.MethodPut || r.Method == http.MethodPost):
		var f Faults
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&f); err != nil {
			http.Error(w, `{"error":"faults must be JSON"}`, http.StatusBadRequest)
			return
		}
		s.SetFaults(f)
		json.NewEncoder(w).Encode(f)
	case r.URL.Path == "/_sink/faults" && r.Method == http.MethodGet:
		s.mu.Lock()
		f := s.faults
		s.mu.Unlock()
		json.NewEncoder(w).Encode(f)
	case r.URL.Path == "/_sink/reset" && r.Method == http.MethodPost:
		s.Reset()
		io.WriteString(w, "{}")
	default:
		http.Error(w, `{"error":"unknown admin endpoint"}`, http.StatusNotFound)
	}
}
