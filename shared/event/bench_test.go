package event

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchEvent is the event shape of internal/benchload/bench-load.sh (its
// event function), about 600 bytes.
func benchEvent(i int) string {
	return fmt.Sprintf(`{"id":"evt-%d","event_type":"PURCHASE","timestamp":"2026-11-22T11:59:00Z","channel_type":"APP",`+
		`"user_id":"user-evt-%d@example.com","custom_id":"cust-evt-%d","page_id":"home/checkout/confirm",`+
		`"device":{"os":"android","os_version":"14","model":"Pixel 8","persistent_id":"3f8e2a41-6b1d-4a77-9c0e-%d",`+
		`"ip":"203.0.113.7","ua":"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"},`+
		`"items":[{"id":"sku-1001","price":{"currency":"USD","amount":19.99},"quantity":2},{"id":"sku-2002","price":{"currency":"USD","amount":5.5},"quantity":1}],`+
		`"revenue":{"currency":"USD","amount":45.48},"session_id":"sess-evt-%d"}`, i, i, i, i, i)
}

// BenchmarkDecodeBody measures DecodeBody, the decode of nearly
// every request body, for one event and for an array of 100; it reports
// ns/event. The bodies take turns among 16 whose ids (five strings an
// event) differ, as real traffic's do: a decoder that caches strings it has
// seen (encoding/json v2 keeps 256) gains only on strings that repeat, such
// as the enumerations.
func BenchmarkDecodeBody(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			bodies := make([][]byte, 16)
			for k := range bodies {
				parts := make([]string, n)
				for i := range parts {
					parts[i] = benchEvent(k*1000 + i)
				}
				bodies[k] = []byte(parts[0])
				if n > 1 {
					bodies[k] = []byte("[" + strings.Join(parts, ",") + "]")
				}
			}
			b.SetBytes(int64(len(bodies[0])))
			b.ReportAllocs()
			k := 0
			for b.Loop() {
				if _, _, ok := DecodeBody(bodies[k%len(bodies)], 1000, 32<<10); !ok {
					b.Fatal("DecodeBody refused the body")
				}
				k++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}

// BenchmarkEncode measures the encoding of one cleansed event for
// publishing with its id derived (DeriveIDAndEncode).
func BenchmarkEncode(b *testing.B) {
	e, ferr := Decode([]byte(benchEvent(0)))
	if ferr != nil {
		b.Fatal(ferr)
	}
	Cleanse(&e)
	b.Run("derived", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			DeriveIDAndEncode("bench", &e)
		}
	})
}

// BenchmarkValidate measures Cleanse and Validate of one cleanly decoded
// event of bench-load's shape.
func BenchmarkValidate(b *testing.B) {
	e, ferr := Decode([]byte(benchEvent(0)))
	if ferr != nil {
		b.Fatal(ferr)
	}
	r := Rules{Now: e.Timestamp.Time().Add(time.Hour), FutureSkew: 10 * time.Second}
	b.ReportAllocs()
	for b.Loop() {
		c := e
		Cleanse(&c)
		if errs := Validate(&c, r); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
