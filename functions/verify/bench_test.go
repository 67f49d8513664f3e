package verify

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/dfinery"
)

// BenchmarkVerify measures one signed, confirmed callback through the whole
// handler (signature, parse, freshness, the stored-verdict look-up, the
// ledger look-up, the claim write and the verdict write, all on the memory
// ledger), so the figure excludes only a remote ledger's own latency. Every
// iteration sends a new body for a new order, as DFINERY would (a repeated
// body would be answered from its stored verdict). Besides ns/op it reports
// the p99 of the iterations.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b, nil, staticKeys{})
	bodies := make([]string, b.N)
	for i := range bodies {
		order := fmt.Sprintf("order-%08d", i)
		at := testNow.Add(-time.Duration(i%1000) * time.Millisecond)
		f.record(b, order, at, 24000)
		bodies[i] = callbackBody(order, at, "24000")
	}
	reqs := make([]*http.Request, b.N)
	for i, body := range bodies {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(dfinery.HeaderHash, dfinery.Hash([]byte(hmacKey), []byte(body)))
		reqs[i] = req
	}
	took := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		start := time.Now()
		f.svc.ServeHTTP(rec, reqs[i])
		took[i] = time.Since(start)
		if rec.Code != http.StatusOK {
			b.Fatalf("callback %d: %d %s", i, rec.Code, rec.Body.String())
		}
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}
