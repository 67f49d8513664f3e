package verify

import (
	"bufio"
	"context"
	"eventrelay.dev/eventrelay/internal/testclose"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/functions/ingest"
	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/pii"
)

// vector is one row of testdata/callbacks.tsv, written and signed with
// openssl by testdata/vectors.sh, not by this package.
type vector struct {
	group, config, name, contentType string
	headers                          map[string]string
	status                           int
	reason                           string
	hash, body                       string
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open("testdata/callbacks.tsv")
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, f)
	var out []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) != 9 {
			t.Fatalf("callbacks.tsv: %d columns in %q", len(col), sc.Text())
		}
		v := vector{group: col[0], config: col[1], name: col[2], contentType: col[3], reason: col[6], hash: col[7], body: col[8],
			headers: map[string]string{}}
		if v.status, err = strconv.Atoi(col[5]); err != nil {
			t.Fatalf("callbacks.tsv: status %q", col[5])
		}
		if col[4] != "-" {
			for _, h := range strings.Split(col[4], " ; ") {
				k, val, _ := strings.Cut(h, ": ")
				v.headers[k] = val
			}
		}
		if v.reason == "-" {
			v.reason = ""
		}
		out = append(out, v)
	}
	return out
}

// vectorConfigs are the settings the vectors name.
var vectorConfigs = map[string]func(*Config){
	"default": func(*Config) {},
	"map": func(c *Config) {
		c.EventTypes["abx:sign_up"] = "LAND"
		c.EventTypes["c:buy"] = "PURCHASE"
		c.EventTypes["abx:product_view"] = "PURCHASE"
	},
	"devicetime": func(c *Config) { c.MatchDeviceTime = true },
	"seoul":      func(c *Config) { c.Zone = time.FixedZone("Asia/Seoul", 9*3600) },
	"sources":    func(c *Config) { c.Sources = []string{"shop"} },
	"orderkey":   func(c *Config) { c.Fields.OrderID = dfinery.OrderIDKeys("merchant_uid") },
	"xff": func(c *Config) {
		c.AllowedNets = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
		c.ClientIPHeader, c.TrustedProxies = "X-Forwarded-For", 1
	},
}

// recordVectorLedger records, through ingest's own cleanse, anonymiser and
// ledger recorder, the events the vectors ask about. The purchase's ADID is
// sent to ingest in upper case, as iOS prints it.
func recordVectorLedger(t *testing.T, store ledger.Store, anon *pii.Anonymiser, now time.Time) {
	t.Helper()
	krw := func(a float64) *event.Money { return &event.Money{Currency: "krw", Amount: &a} }
	usd := func(a float64) *event.Money { return &event.Money{Currency: "USD", Amount: &a} }
	at := func(d time.Duration) event.Millis { return event.Millis(now.Add(d).UnixMilli()) }
	device := &event.Device{AdvertisingID: " 9F1C2D3E-AAAA-BBBB-CCCC-123456789ABC"}
	shop := []*event.Event{
		{ID: "ord-77", EventType: "PURCHASE", Timestamp: at(-100 * time.Second), UserID: "alice", Device: device, Revenue: krw(24000)},
		{ID: "ord-late", EventType: "PURCHASE", Timestamp: at(-20 * time.Hour), UserID: "alice", Device: device, Revenue: krw(5000)},
		{ID: "signup-carol", EventType: "LAND", Timestamp: at(-5 * time.Minute), UserID: "carol"},
		{ID: "ord-both", EventType: "PURCHASE", Timestamp: at(-100 * time.Second), UserID: "erin", Revenue: krw(24000)},
	}
	other := []*event.Event{
		{ID: "ord-other", EventType: "PURCHASE", Timestamp: at(-100 * time.Second), UserID: "bob", Revenue: usd(100)},
		{ID: "ord-both", EventType: "PURCHASE", Timestamp: at(-100 * time.Second), UserID: "frank", Revenue: usd(100)},
	}
	rec := &ingest.LedgerRecorder{Store: store, Types: map[string]bool{"PURCHASE": true, "LAND": true}, TTL: 30 * 24 * time.Hour,
		Now: func() time.Time { return now }}
	for source, events := range map[string][]*event.Event{"shop": shop, "other-app": other} {
		for _, e := range events {
			if e.Device != nil {
				d := *e.Device
				e.Device = &d
			}
			event.Cleanse(e)
			anon.Apply(e)
		}
		if err := rec.Record(context.Background(), source, events); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVectors: every point of the verifier against callbacks signed with
// openssl, in form and JSON bodies.
func TestVectors(t *testing.T) {
	vectors := loadVectors(t)
	groups := map[string][]vector{}
	var order []string
	for _, v := range vectors {
		if _, ok := groups[v.group]; !ok {
			order = append(order, v.group)
		}
		groups[v.group] = append(groups[v.group], v)
	}
	for _, g := range order {
		t.Run(g, func(t *testing.T) {
			mutate, ok := vectorConfigs[groups[g][0].config]
			if !ok {
				t.Fatalf("unknown config %q", groups[g][0].config)
			}
			f := newFixture(t, func(c *Config) {
				c.EventTypes = maps.Clone(dfinery.DefaultEventTypes)
				mutate(c)
			}, staticKeys{})
			recordVectorLedger(t, f.store, f.anon, testNow)
			for _, v := range groups[g] {
				req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(v.body))
				req.Header.Set("Content-Type", v.contentType)
				if v.hash != "-" {
					req.Header.Set(dfinery.HeaderHash, v.hash)
				}
				for k, val := range v.headers {
					req.Header.Set(k, val)
				}
				req.RemoteAddr = "10.0.0.2:40000" // the proxy in front of us
				rec := httptest.NewRecorder()
				apicontract.Wrap(t, apicontract.Verify, f.svc).ServeHTTP(rec, req)
				if rec.Code != v.status || reasonOf(rec.Body.String()) != v.reason {
					t.Errorf("%s: got %d %s, want %d %q", v.name, rec.Code, rec.Body.String(), v.status, v.reason)
				}
			}
		})
	}
}
