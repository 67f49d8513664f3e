package setup

import (
	"context"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/internal/dynalite"
	"eventrelay.dev/eventrelay/internal/firestoreemu"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/dynamoledger"
	"eventrelay.dev/eventrelay/shared/ledger/firestoreledger"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

const (
	testDFINERYKey = "3f2b8c1e-6a4d-4e2b-9c1a-7d5e8f0a1b2c"
	testAPIKey     = "shopkey.not-a-real-secret-0123456789"
	testADID       = "9F1C2D3E-AAAA-BBBB-CCCC-123456789ABC" // sent to ingest upper case, to DFINERY's callbacks lower
)

func verifySecrets(t testing.TB) *secrets.Memory {
	t.Helper()
	file, err := json.Marshal(auth.APIKeyFile{Keys: []auth.APIKey{auth.HashAPIKey("shopkey", "shop", "not-a-real-secret-0123456789", []byte("salt-0123456789abcdef"))}})
	if err != nil {
		t.Fatal(err)
	}
	return secrets.NewMemory(map[string]string{"api-keys": string(file), "pii-salt": "pii-salt-for-tests", "dfinery": `["` + testDFINERYKey + `"]`,
		"erase-keys": testEraseKey})
}

func verifyEnv(extra map[string]string) map[string]string {
	env := map[string]string{"INGEST_API_KEYS_SECRET": "api-keys", "PII_SALT_SECRET": "pii-salt", "DFINERY_KEYS_SECRET": "dfinery",
		"ERASE_KEYS_SECRET": "erase-keys", "LOG_LEVEL": "error"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// Settings that contradict each other stop the start with one line naming
// both.
func TestVerifySettings(t *testing.T) {
	opt := Options{Secrets: verifySecrets(t), Ledger: ledger.NewMemory(nil)}
	for _, c := range []struct {
		env  map[string]string
		want []string // "" : starts
	}{
		{nil, nil},
		{map[string]string{"VERIFY_EVENT_MAP": "abx:add_to_cart=ADD_TO_CART"}, []string{"VERIFY_EVENT_MAP", "LEDGER_EVENT_TYPES", "ADD_TO_CART"}},
		{map[string]string{"VERIFY_EVENT_MAP": "abx:add_to_cart=ADD_TO_CART", "LEDGER_EVENT_TYPES": "PURCHASE,ADD_TO_CART"}, nil},
		{map[string]string{"VERIFY_EVENT_MAP": "abx:sign_up=SIGN_UP"}, []string{"VERIFY_EVENT_MAP", "SIGN_UP"}},
		{map[string]string{"VERIFY_EVENT_MAP": "abx:purchase"}, []string{"VERIFY_EVENT_MAP"}},
		{map[string]string{"VERIFY_FRESHNESS": "48h", "LEDGER_TTL": "24h"}, []string{"VERIFY_FRESHNESS", "LEDGER_TTL"}},
		{map[string]string{"VERIFY_TIMEZONE": "Mars/Olympus"}, []string{"VERIFY_TIMEZONE"}},
		{map[string]string{"VERIFY_TIMEZONE": "Asia/Seoul"}, nil},
		{map[string]string{"VERIFY_MATCH_DEVICE_TIME": "maybe"}, []string{"VERIFY_MATCH_DEVICE_TIME"}},
		{map[string]string{"VERIFY_TRUSTED_PROXIES": "0"}, []string{"VERIFY_TRUSTED_PROXIES"}},
	} {
		fn, err := Verify(context.Background(), settings.FromMap(verifyEnv(c.env)), opt)
		if len(c.want) == 0 {
			if err != nil {
				t.Errorf("%v: %v", c.env, err)
			} else {
				if err := fn.Close(); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want one line", c.env, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: %q does not name %s", c.env, err, w)
			}
		}
	}
}

// stack is ingest and two verify instances on one ledger backend, each
// built by setup as the cloud builds it: on dynalite and the Firestore
// emulator every instance has a client of its own.
type stack struct {
	ingest   http.Handler
	verifies [2]http.Handler
}

func newStack(t *testing.T, backend map[string]string, shared ledger.Store) *stack {
	t.Helper()
	opt := Options{Secrets: verifySecrets(t), Publisher: &queue.Memory{}, Ledger: shared}
	env := verifyEnv(backend)
	st := &stack{}
	in, err := Ingest(context.Background(), settings.FromMap(env), opt)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, in)
	st.ingest = in.Handler
	for i := range st.verifies {
		v, err := Verify(context.Background(), settings.FromMap(env), opt)
		if err != nil {
			t.Fatal(err)
		}
		testclose.Cleanup(t, v)
		st.verifies[i] = v.Handler
	}
	return st
}

// backends runs f on the memory ledger, dynalite and the Firestore emulator
// (Google's when the machine has it).
func backends(t *testing.T, f func(t *testing.T, st func(t *testing.T) *stack)) {
	t.Run("memory", func(t *testing.T) {
		f(t, func(t *testing.T) *stack { return newStack(t, nil, ledger.NewMemory(nil)) })
	})
	t.Run("dynalite", func(t *testing.T) {
		endpoint := dynalite.Start(t)
		client := dynalite.Client(endpoint)
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_ACCESS_KEY_ID", "local")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
		f(t, func(t *testing.T) *stack {
			table := dynalite.NewTable(t, client, dynamoledger.CreateTable)
			return newStack(t, map[string]string{"LEDGER_BACKEND": "dynamodb", "LEDGER_DYNAMODB_TABLE": table}, nil)
		})
	})
	t.Run("firestore", func(t *testing.T) {
		firestoreemu.Require(t)
		name := firestoreemu.NPM
		if slices.Contains(firestoreemu.Available(), firestoreemu.Google) {
			name = firestoreemu.Google
		} else {
			t.Log("Google's Firestore emulator is not on this machine: the npm one stands in")
		}
		t.Setenv("FIRESTORE_EMULATOR_HOST", firestoreemu.Start(t, name))
		warmFirestore(t)
		n := 0
		f(t, func(t *testing.T) *stack {
			n++
			return newStack(t, map[string]string{"LEDGER_BACKEND": "firestore", "GOOGLE_CLOUD_PROJECT": "eventrelay-test",
				"LEDGER_FIRESTORE_COLLECTION": fmt.Sprintf("verify-%d", n)}, nil)
		})
	})
}

// warmFirestore makes one write before the test's own: the Java emulator's
// first transaction can take longer than ingest waits for the ledger on a
// loaded machine.
func warmFirestore(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := firestore.NewClient(ctx, "eventrelay-test")
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, client)
	store := firestoreledger.New(client, "warm-up")
	if err := store.Put(ctx, []ledger.Entry{{EventID: "warm-up", Source: "test", EventType: "PURCHASE", Time: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatalf("the Firestore emulator does not take a write: %v", err)
	}
	if _, err := store.Claim(ctx, ledger.Key{Source: "test", EventID: "warm-up"}, "warm-up", time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("the Firestore emulator does not take a claim: %v", err)
	}
}

// purchase ingests one purchase through ingest's HTTP handler.
func (st *stack) purchase(t testing.TB, order string, at time.Time) {
	t.Helper()
	body := fmt.Sprintf(`{"id":%q,"event_type":"PURCHASE","timestamp":%q,"channel_type":"APP","user_id":"user-%s",
		"device":{"os":"android","advertising_id":%q},
		"items":[{"id":"sku-1","price":{"currency":"KRW","amount":24000},"quantity":1}],
		"revenue":{"currency":"KRW","amount":24000}}`, order, at.UTC().Format(time.RFC3339Nano), order, testADID)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", testAPIKey)
	rec := httptest.NewRecorder()
	apicontract.Wrap(t, apicontract.Ingest, st.ingest).ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("ingest %s: %d %s", order, rec.Code, rec.Body.String())
	}
}

// callback is DFINERY's form callback for order at ms; distinct ms make
// distinct bodies for the same purchase.
func callback(order string, ms int64) string {
	param, _ := json.Marshal(map[string]any{"abx:order_id": order, "abx:order_sales": 24000, "abx:currency": "KRW"})
	return url.Values{"adid": {strings.ToLower(testADID)}, "event_name": {"abx:purchase"},
		"event_timestamp": {strconv.FormatInt(ms, 10)}, "param_json": {string(param)}}.Encode()
}

func send(h http.Handler, body string) (int, string) {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(dfinery.HeaderHash, dfinery.Hash([]byte(testDFINERYKey), []byte(body)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var v struct{ Result, Reason string }
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		return rec.Code, "(not JSON: " + rec.Body.String() + ")"
	}
	if v.Result == "success" {
		return rec.Code, "confirmed"
	}
	return rec.Code, v.Reason
}

// inParallel sends every body at once, alternating the two instances, and
// counts the answers by status and reason.
func (st *stack) inParallel(bodies []string) map[string]int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	counts := map[string]int{}
	start := make(chan struct{})
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, reason := send(st.verifies[i%2], b)
			mu.Lock()
			counts[fmt.Sprintf("%d %s", status, reason)]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return counts
}

// The claims and verdicts hold across two instances on every backend,
// end to end from ingest.
func TestVerifyInstancesShareOneLedger(t *testing.T) {
	backends(t, func(t *testing.T, newStack func(t *testing.T) *stack) {
		at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
		t.Run("distinct callbacks for one order: one confirmed", func(t *testing.T) {
			st := newStack(t)
			st.purchase(t, "ord-one", at)
			const n = 12
			var bodies []string
			for i := range n {
				bodies = append(bodies, callback("ord-one", at.UnixMilli()+int64(i)))
			}
			got := st.inParallel(bodies)
			if got["200 confirmed"] != 1 || got["422 already_confirmed"] != n-1 {
				t.Fatalf("answers %v, want 1 confirmed and %d already_confirmed", got, n-1)
			}
		})
		t.Run("the identical body K times: K successes", func(t *testing.T) {
			st := newStack(t)
			st.purchase(t, "ord-same", at)
			const k = 12
			body := callback("ord-same", at.UnixMilli())
			got := st.inParallel(slices.Repeat([]string{body}, k))
			if got["200 confirmed"] != k {
				t.Fatalf("answers %v, want %d confirmed", got, k)
			}
		})
		t.Run("100 spoofed callbacks for 10 orders: 10 confirmed", func(t *testing.T) {
			st := newStack(t)
			var bodies []string
			for o := range 10 {
				order := fmt.Sprintf("ord-%02d", o)
				st.purchase(t, order, at)
				for i := range 10 {
					bodies = append(bodies, callback(order, at.UnixMilli()+int64(i)))
				}
			}
			got := st.inParallel(bodies)
			if got["200 confirmed"] != 10 || got["422 already_confirmed"] != 90 {
				t.Fatalf("answers %v, want 10 confirmed and 90 already_confirmed", got)
			}
		})
		t.Run("latency per callback (measured, not asserted)", func(t *testing.T) {
			st := newStack(t)
			const n = 40
			took := make([]time.Duration, 0, n)
			for i := range n {
				order := fmt.Sprintf("ord-lat-%02d", i)
				st.purchase(t, order, at)
				start := time.Now()
				if status, reason := send(st.verifies[i%2], callback(order, at.UnixMilli())); status != 200 {
					t.Fatalf("%s: %d %s", order, status, reason)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			t.Logf("confirmed callback, %d sequential: p50 %v, p90 %v, max %v", n, took[n/2], took[n*9/10], took[n-1])
		})
	})
}
