package setup

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// corpusRow is one step of testdata/dfinery/corpus.tsv, written by
// corpus.py from DFINERY's documentation (see the README beside it).
type corpusRow struct {
	step                           int
	kind, name, truth, ctype, want string
	body                           string
}

func loadCorpus(t *testing.T) []corpusRow {
	t.Helper()
	f, err := os.Open("testdata/dfinery/corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, f)
	var rows []corpusRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 7 {
			t.Fatalf("corpus.tsv: %d columns in %q", len(c), sc.Text())
		}
		step, err := strconv.Atoi(c[0])
		if err != nil {
			t.Fatalf("corpus.tsv: step %q", c[0])
		}
		rows = append(rows, corpusRow{step: step, kind: c[1], name: c[2], truth: c[3], ctype: c[4], want: c[5], body: c[6]})
	}
	if len(rows) < 300 {
		t.Fatalf("corpus.tsv has %d rows: run corpus.py", len(rows))
	}
	return rows
}

// abxHash is DFINERY's ABX-HASH as its documentation states it, written
// here from that sentence rather than through the verifier's code:
// Base64(HMAC-SHA256(the issued key's UUID text, the raw request body)).
func abxHash(key, body string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(body))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type corpusAnswer struct {
	status int
	reason string // "confirmed" for DFINERY's success answer
}

// outcome is what DFINERY records: success only for the success answer.
func (a corpusAnswer) success() bool { return a.status == http.StatusOK && a.reason == "confirmed" }

// stored reports an answer that is the verifier's verdict on the body (a
// retry must get it again); not_found and unavailable are not.
func (a corpusAnswer) stored() bool { return a.reason != "not_found" && a.reason != "unavailable" }

// TestDFINERYCorpus plays the corpus (iOS with and without ATT, Android
// with and without the advertising id, web; form and JSON templates;
// amounts as strings and numbers; retries; races with ingest; spoofs that
// reuse an order id with every combination of missing and wrong fields,
// sent before the real callback) against ingest's public API and two
// verify instances on one ledger, alternating, on every backend; it prints
// the confusion matrix and asserts no false fraud, no missed fraud and
// consistent retries.
func TestDFINERYCorpus(t *testing.T) {
	rows := loadCorpus(t)
	backends(t, func(t *testing.T, newStack func(t *testing.T) *stack) {
		playCorpus(t, newStack(t), rows)
	})
	// Ingest hashing some device fields and not others: the verifier
	// compares every form a DFINERY id can have in the ledger.
	t.Run("memory, mixed hashing", func(t *testing.T) {
		st := newStack(t, map[string]string{"PII_HASH_FIELDS": "user_id,device.advertising_id"}, ledger.NewMemory(nil))
		playCorpus(t, st, rows)
	})
}

func playCorpus(t *testing.T, st *stack, rows []corpusRow) {
	t.Helper()
	purchaseAt := time.Now().Add(-2 * time.Minute).Truncate(time.Millisecond)
	sdkAt := purchaseAt.Add(1500 * time.Millisecond)
	fill := strings.NewReplacer("{ts}", strconv.FormatInt(purchaseAt.UnixMilli(), 10),
		"{sdk_ts}", strconv.FormatInt(sdkAt.UnixMilli(), 10), "{sdk_dt}", sdkAt.UTC().Format(time.DateTime))
	answers := map[string][]corpusAnswer{} // by body, in order
	truth := map[string]string{}
	var bodies []string
	reasons := map[string]int{}
	start := time.Now()
	callbacks := 0
	for _, r := range rows {
		body := fill.Replace(r.body)
		switch r.kind {
		case "ingest":
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header.Set("Content-Type", r.ctype)
			req.Header.Set("X-Api-Key", testAPIKey)
			rec := httptest.NewRecorder()
			st.ingest.ServeHTTP(rec, req)
			if rec.Code != http.StatusAccepted {
				t.Fatalf("step %d, ingest %s: %d %s", r.step, r.name, rec.Code, rec.Body.String())
			}
			continue
		case "callback":
		default:
			t.Fatalf("step %d: kind %q", r.step, r.kind)
		}
		callbacks++
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", r.ctype)
		req.Header.Set("ABX-HASH", abxHash(testDFINERYKey, body))
		rec := httptest.NewRecorder()
		st.verifies[r.step%2].ServeHTTP(rec, req)
		var v struct{ Result, Reason string }
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("verify answered %d, not in JSON: %v: %s", rec.Code, err, rec.Body)
		}
		a := corpusAnswer{status: rec.Code, reason: v.Reason}
		if v.Result == "success" {
			a.reason = "confirmed"
		}
		reasons[a.reason]++
		ok := false
		switch r.want {
		case "success":
			ok = a.success()
		case "failure":
			ok = !a.success() && a.stored()
		case "not_found":
			ok = a.reason == "not_found"
		}
		if !ok {
			t.Errorf("step %d, %s %q: %d %s, want %s", r.step, r.truth, r.name, a.status, a.reason, r.want)
		}
		if _, seen := answers[body]; !seen {
			bodies = append(bodies, body)
		}
		answers[body] = append(answers[body], a)
		truth[body] = r.truth
	}
	took := time.Since(start)
	// The matrix counts each distinct callback once, by the answer to its
	// last delivery: a race's first not_found is followed by DFINERY's
	// retry, whose answer is what DFINERY records.
	var m struct{ realOK, realFail, spoofOK, spoofFail int }
	retried, inconsistent := 0, 0
	for _, b := range bodies {
		as := answers[b]
		final := as[len(as)-1].success()
		switch {
		case truth[b] == "real" && final:
			m.realOK++
		case truth[b] == "real":
			m.realFail++
		case final:
			m.spoofOK++
		default:
			m.spoofFail++
		}
		if len(as) > 1 {
			retried++
		}
		first := slices.IndexFunc(as, corpusAnswer.stored)
		for i := first + 1; first >= 0 && i < len(as); i++ {
			if as[i] != as[first] {
				inconsistent++
				t.Errorf("retry %d of a %s callback got %v after %v", i, truth[b], as[i], as[first])
			}
		}
	}
	t.Logf("DFINERY corpus: %d callbacks (%d distinct, %d retried) in %v\n"+
		"                 answered success   answered failure\n"+
		"  real events    %7d            %7d (false fraud)\n"+
		"  spoofs         %7d (missed)   %7d\n"+
		"  retries inconsistent: %d; answers by reason: %v",
		callbacks, len(bodies), retried, took.Round(time.Millisecond), m.realOK, m.realFail, m.spoofOK, m.spoofFail, inconsistent, fmtCounts(reasons))
	if m.realFail != 0 || m.spoofOK != 0 || inconsistent != 0 {
		t.Errorf("false fraud %d, missed fraud %d, inconsistent retries %d: want 0, 0, 0", m.realFail, m.spoofOK, inconsistent)
	}
	if m.realOK == 0 || m.spoofFail == 0 || retried == 0 {
		t.Errorf("the corpus exercised nothing: %+v, %d retried", m, retried)
	}
}

func fmtCounts(c map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
	}
	return strings.Join(parts, ", ")
}
