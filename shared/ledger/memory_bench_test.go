package ledger

import (
	"context"
	"strconv"
	"testing"
)

// BenchmarkMemoryPut records batches of 100 new entries past the count cap,
// as a load run does: appends, compactions and the index.
func BenchmarkMemoryPut(b *testing.B) {
	b.ReportAllocs()
	m := NewMemory(nil)
	batch := make([]Entry, 100)
	n := 0
	for b.Loop() {
		for i := range batch {
			n++
			batch[i] = Entry{EventID: "evt-" + strconv.Itoa(n), Source: "s", UserID: "u" + strconv.Itoa(n%1000), DeviceIDs: []string{"d"}}
		}
		if err := m.Put(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}
