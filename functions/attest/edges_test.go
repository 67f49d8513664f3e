package attest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/fakeattest"
	"eventrelay.dev/eventrelay/internal/syncbuf"
	"eventrelay.dev/eventrelay/shared/attest/appattest"
	"eventrelay.dev/eventrelay/shared/attest/playintegrity"
	"eventrelay.dev/eventrelay/shared/ledger"
)

// countingStore counts the writes to the state store, and fails them all
// with err when set.
type countingStore struct {
	ledger.AttestStore
	writes atomic.Int64
	err    error
}

func (c *countingStore) SpendChallenge(ctx context.Context, v string, exp time.Time) error {
	c.writes.Add(1)
	if c.err != nil {
		return c.err
	}
	return c.AttestStore.SpendChallenge(ctx, v, exp)
}

func (c *countingStore) TakeBudget(ctx context.Context, name string, n, limit int64, exp time.Time) (int64, error) {
	c.writes.Add(1)
	if c.err != nil {
		return 0, c.err
	}
	return c.AttestStore.TakeBudget(ctx, name, n, limit, exp)
}

// forgedToken has the shape of a Play Integrity token (CheckToken passes
// it) but Google cannot decode it: what a hostile caller can make freely.
func forgedToken() string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"A256KW","enc":"A256GCM"}`)) + "." + enc(make([]byte, 40)) + "." + enc(make([]byte, 12)) + "." +
		enc([]byte("not a verdict")) + "." + enc(make([]byte, 16))
}

func (h *harness) androidToken(c string) string {
	return h.play.Mint(project, fakeattest.PlayPayload(pkg, cert, playintegrity.RequestHash(c), h.clock.UnixMilli()))
}

// TestFloodLeavesGenuineExchanges: an anonymous flood from many threads
// and addresses asks for challenges and sends junk and shape-valid forged
// Play Integrity tokens; genuine Android and iOS exchanges from other
// addresses keep getting credentials, and the flood's decode calls are
// bounded by its addresses' request budgets. Issuing a challenge writes
// nothing to the state store. On the code before, one bucket per instance
// closed the exchange for every caller (429 too_many_challenges) and each
// junk token cost a decode call.
func TestFloodLeavesGenuineExchanges(t *testing.T) {
	h := newHarnessWith(t, func(c *Config) {}) // the default client budget: 20 a minute
	store := &countingStore{AttestStore: h.deps.State}
	h.deps.State = store
	h = h.another(t, func(*Config) {})

	const floodAddrs, threads, perThread = 8, 16, 250 // 4,000 requests
	var floodSent, floodRefused atomic.Int64
	var wg sync.WaitGroup
	for th := range threads {
		wg.Go(func() {
			f := *h
			f.from = fmt.Sprintf("203.0.113.%d:5000", th%floodAddrs)
			for i := range perThread {
				floodSent.Add(1)
				var code int
				switch i % 3 {
				case 0:
					code, _ = f.post(t, "challenge", Request{Source: "shop"})
				case 1:
					code, _ = f.post(t, "android", Request{Source: "shop", Challenge: "x", PackageName: pkg, Token: "xxxxxxxxxx"})
				default:
					c, out := f.post(t, "challenge", Request{Source: "shop"})
					code = c
					if c == http.StatusOK {
						code, _ = f.post(t, "android", Request{Source: "shop", Challenge: out["challenge"], PackageName: pkg, Token: forgedToken()})
					}
				}
				if code != http.StatusOK {
					floodRefused.Add(1)
				}
			}
		})
	}
	genuine, answered := 0, 0
	for i := range 20 {
		g := *h
		g.from = fmt.Sprintf("198.51.100.%d:443", i)
		genuine++
		if i%2 == 0 {
			c := g.challenge(t, "shop")
			code, out := g.post(t, "android", Request{Source: "shop", Challenge: c, PackageName: pkg, Token: g.androidToken(c)})
			if code == http.StatusOK {
				answered++
			} else {
				t.Errorf("genuine Android exchange %d during the flood: %d %v", i, code, out)
			}
			continue
		}
		d, _ := fakeattest.NewDevice(appID)
		code, out := g.attest(t, d, "shop", g.challenge(t, "shop"), nil)
		if code == http.StatusOK {
			answered++
		} else {
			t.Errorf("genuine iOS exchange %d during the flood: %d %v", i, code, out)
		}
	}
	wg.Wait()
	decodes := h.play.Calls()
	// The flood's addresses get 20 requests each at once; a forged token
	// needs a challenge first, so at most 8 × 20 / 2 = 80 decode calls,
	// plus the 10 genuine ones.
	t.Logf("flood: %d requests from %d addresses, %d refused; genuine: %d of %d answered; decode calls: %d (10 genuine); state store writes: %d",
		floodSent.Load(), floodAddrs, floodRefused.Load(), answered, genuine, decodes, store.writes.Load())
	if decodes > 10+floodAddrs*20/2 {
		t.Errorf("%d decode calls; the flood's budget allows at most %d", decodes, 10+floodAddrs*20/2)
	}
	if answered != genuine {
		t.Errorf("%d of %d genuine exchanges answered", answered, genuine)
	}
}

// TestChallengesWriteNothing: asking for challenges costs no write to the
// state store (the code before wrote each one).
func TestChallengesWriteNothing(t *testing.T) {
	h := newHarness(t)
	store := &countingStore{AttestStore: h.deps.State}
	h.deps.State = store
	h = h.another(t, func(*Config) {})
	for range 50 {
		h.challenge(t, "shop")
	}
	if n := store.writes.Load(); n != 0 {
		t.Errorf("50 challenges made %d state store writes; want 0", n)
	}
}

// TestOneClientCannotCloseTheExchange: one address spending its budget
// leaves the others theirs.
func TestOneClientCannotCloseTheExchange(t *testing.T) {
	h := newHarnessWith(t, func(c *Config) {})
	for range 200 {
		h.post(t, "challenge", Request{Source: "shop"})
	}
	code, out := h.post(t, "challenge", Request{Source: "shop"})
	wantRefusal(t, code, out, http.StatusTooManyRequests, ReasonBusy)
	other := *h
	other.from = "[2001:db8:7::1]:443"
	other.challenge(t, "shop")
	// The same /64 is the same client.
	other.from = "[2001:db8:7::2]:443"
	for range 19 {
		other.challenge(t, "shop")
	}
	code, out = other.post(t, "challenge", Request{Source: "shop"})
	wantRefusal(t, code, out, http.StatusTooManyRequests, ReasonBusy)
}

// TestJunkTokensCostNoDecodeCall: a token without the shape of a Play
// Integrity token, or for a package the source does not have, is refused
// before the challenge is spent and before Google is asked.
func TestJunkTokensCostNoDecodeCall(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ pkg, token, reason string }{
		{pkg, "xxxxxxxxxx", playintegrity.ReasonMalformed},
		{pkg, strings.Repeat("eyJ.", 4) + "eyJ", playintegrity.ReasonMalformed},
		{pkg, "a.b.c.d.e", playintegrity.ReasonMalformed},
		{"com.other.app", forgedToken(), playintegrity.ReasonWrongPackage},
	} {
		ch := h.challenge(t, "shop")
		code, out := h.post(t, "android", Request{Source: "shop", Challenge: ch, PackageName: c.pkg, Token: c.token})
		wantRefusal(t, code, out, http.StatusUnauthorized, c.reason)
		// The challenge was not spent: a genuine token still goes through with it.
		code, out = h.post(t, "android", Request{Source: "shop", Challenge: ch, PackageName: pkg, Token: h.androidToken(ch)})
		h.wantCredential(t, code, out, "shop")
	}
	if n := h.play.Calls(); n != 4 {
		t.Errorf("%d decode calls; want 4 (the genuine tokens only)", n)
	}
}

// TestChallengeBoundToClient: a challenge is spent only by the address it
// was issued to.
func TestChallengeBoundToClient(t *testing.T) {
	h := newHarness(t)
	c := h.challenge(t, "shop")
	other := *h
	other.from = "198.51.100.99:1"
	code, out := other.post(t, "android", Request{Source: "shop", Challenge: c, PackageName: pkg, Token: other.androidToken(c)})
	wantRefusal(t, code, out, http.StatusUnauthorized, ReasonChallengeClient)
	if n := h.play.Calls(); n != 0 {
		t.Errorf("%d decode calls for a challenge of another client", n)
	}
}

// TestDecodeBudget: the day's budget holds across instances sharing the
// state store, warns past 80% and answers 503 once spent; the next UTC day
// starts again.
func TestDecodeBudget(t *testing.T) {
	var logs syncbuf.Buffer
	h := newHarnessWith(t, func(c *Config) { c.ClientRate, c.PlayDailyBudget = 10000, 10 })
	h.deps.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	a, b := h.another(t, func(*Config) {}), h.another(t, func(*Config) {})
	exchange := func(x *harness) (int, map[string]string) {
		c := x.challenge(t, "shop")
		return x.post(t, "android", Request{Source: "shop", Challenge: c, PackageName: pkg, Token: x.androidToken(c)})
	}
	for i := range 10 {
		x := a
		if i%2 == 1 {
			x = b
		}
		code, out := exchange(x)
		h.wantCredential(t, code, out, "shop")
	}
	for _, x := range []*harness{a, b} {
		code, out := exchange(x)
		wantRefusal(t, code, out, http.StatusServiceUnavailable, ReasonBudget)
	}
	if n := h.play.Calls(); n != 10 {
		t.Errorf("%d decode calls; the budget is 10", n)
	}
	text := logs.String()
	if !strings.Contains(text, `"outcome":"decode_budget_low"`) || !strings.Contains(text, `"outcome":"decode_budget_spent"`) {
		t.Errorf("no budget warnings in the log:\n%s", text)
	}
	*h.clock = time.Date(h.clock.Year(), h.clock.Month(), h.clock.Day()+1, 0, 0, 1, 0, time.UTC)
	code, out := exchange(a)
	h.wantCredential(t, code, out, "shop")
}

// TestUnavailableTellsTheCallerNothingInternal: our own failures answer
// 503 with a message that carries none of the error's text (which goes to
// the log).
func TestUnavailableTellsTheCallerNothingInternal(t *testing.T) {
	var logs syncbuf.Buffer
	h := newHarness(t)
	h.deps.State = &countingStore{AttestStore: h.deps.State, err: errors.New("rpc error: dial tcp 10.9.8.7:443: connection refused")}
	h.deps.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	h = h.another(t, func(*Config) {})
	d, _ := fakeattest.NewDevice(appID)
	code, out := h.attest(t, d, "shop", h.challenge(t, "shop"), nil)
	wantRefusal(t, code, out, http.StatusServiceUnavailable, ReasonUnavailable)
	if strings.Contains(out["message"], "10.9.8.7") || strings.Contains(out["message"], "rpc") {
		t.Errorf("the caller reads our error: %q", out["message"])
	}
	if !strings.Contains(logs.String(), "10.9.8.7") {
		t.Errorf("the log lacks the error: %s", logs.String())
	}
}

// TestUnknownSourceIsOneLabel: a source the exchange does not know is
// logged as "unknown" (the log line's source is a metric label), so a
// caller cannot make new time series.
func TestUnknownSourceIsOneLabel(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t)
	h.deps.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	h = h.another(t, func(*Config) {})
	h.post(t, "challenge", Request{Source: "attacker-made-label-1"})
	h.post(t, "challenge", Request{Source: "shop"})
	text := logs.String()
	if !strings.Contains(text, `"source":"unknown"`) || !strings.Contains(text, `"source":"shop"`) {
		t.Errorf("want sources unknown and shop:\n%s", text)
	}
	if strings.Contains(text, `"source":"attacker-made-label-1"`) {
		t.Errorf("the caller's text became a label:\n%s", text)
	}
}

// TestKeyRetiredWithItsAppID: an App Attest key attested under an app id
// the source no longer lists, or in another environment, mints nothing.
func TestKeyRetiredWithItsAppID(t *testing.T) {
	h := newHarness(t)
	d, _ := fakeattest.NewDevice(appID)
	code, out := h.attest(t, d, "shop", h.challenge(t, "shop"), nil)
	h.wantCredential(t, code, out, "shop")
	for name, edit := range map[string]func(*Config){
		"app id removed": func(c *Config) {
			s := c.Sources["shop"]
			s.Apple = &Apple{AppIDs: []string{"TEAMID1234.com.example.other"}, Env: appattest.Production}
			c.Sources = map[string]Source{"shop": s}
		},
		"environment changed": func(c *Config) {
			s := c.Sources["shop"]
			s.Apple = &Apple{AppIDs: []string{appID}, Env: appattest.Development}
			c.Sources = map[string]Source{"shop": s}
		},
	} {
		t.Run(name, func(t *testing.T) {
			now := h.another(t, edit)
			code, out := now.assert(t, d, "shop", now.challenge(t, "shop"), nil)
			wantRefusal(t, code, out, http.StatusUnauthorized, ReasonKeyUnknown)
		})
	}
	code, out = h.assert(t, d, "shop", h.challenge(t, "shop"), nil)
	h.wantCredential(t, code, out, "shop")
}

// TestExchangeNamesExactAndOnce: a name in another case is not the field,
// and a name twice is refused (encoding/json took {"source":"nobody",
// "Source":"shop"} as shop).
func TestExchangeNamesExactAndOnce(t *testing.T) {
	h := newHarness(t)
	for body, reason := range map[string]string{
		`{"source":"nobody","Source":"shop"}`: ReasonUnknownSource,
		`{"SOURCE":"shop"}`:                   ReasonBadRequest,
		`{"source":"nobody","source":"shop"}`: ReasonBadRequest,
	} {
		r := httptest.NewRequest(http.MethodPost, "/attest/v1/challenge", strings.NewReader(body))
		r.RemoteAddr = h.from
		w := httptest.NewRecorder()
		h.svc.ServeHTTP(w, r)
		if w.Code == http.StatusOK || !strings.Contains(w.Body.String(), `"error":"`+reason+`"`) {
			t.Errorf("%s: %d %s, want %s", body, w.Code, w.Body, reason)
		}
	}
}
