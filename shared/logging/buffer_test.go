package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// countingWriter records each Write as one chunk.
type countingWriter struct {
	mu     sync.Mutex
	chunks []string
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.chunks = append(c.chunks, string(p))
	return len(p), nil
}

func (c *countingWriter) all() string { return strings.Join(c.chunks, "") }

// withoutTime drops each line's "time", the one field that differs between
// two runs of the same calls.
func withoutTime(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		if _, ok := m["time"]; !ok {
			t.Fatalf("no time: %q", l)
		}
		delete(m, "time")
		lines = append(lines, m)
	}
	return lines
}

func logSome(ctx context.Context, log *slog.Logger) {
	l := log.With("function", "ingest")
	l.LogAttrs(ctx, slog.LevelInfo, "ingest event", slog.String("event_id", "a"))
	l.WithGroup("g").InfoContext(ctx, "grouped", "k", 1)
	l.DebugContext(ctx, "below the level")
	log.WarnContext(ctx, "plain", "n", 2)
}

func TestBufferWritesOnceWhatDirectWrites(t *testing.T) {
	var direct, buffered countingWriter
	dl, _ := New(&direct, "info")
	bl, _ := New(&buffered, "info")
	logSome(context.Background(), dl)
	ctx, b := WithBuffer(context.Background())
	logSome(ctx, bl)
	if len(buffered.chunks) != 0 {
		t.Fatalf("written before Flush: %q", buffered.chunks)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(direct.chunks) != 3 || len(buffered.chunks) != 1 {
		t.Fatalf("writes: direct %d (want 3), buffered %d (want 1)", len(direct.chunks), len(buffered.chunks))
	}
	got, want := withoutTime(t, buffered.all()), withoutTime(t, direct.all())
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("buffered lines\n%v\ndirect lines\n%v", got, want)
	}
	if err := b.Flush(); err != nil || len(buffered.chunks) != 1 {
		t.Fatalf("a second Flush wrote again: %v %d", err, len(buffered.chunks))
	}
	bl.InfoContext(ctx, "after")
	if len(buffered.chunks) != 2 || !strings.Contains(buffered.chunks[1], `"after"`) {
		t.Fatalf("a line after the Flush is not written directly: %q", buffered.chunks)
	}
}

// TestBufferFlushedOnPanic: a deferred Flush writes what the failed work
// logged before it panicked.
func TestBufferFlushedOnPanic(t *testing.T) {
	var out countingWriter
	log, _ := New(&out, "info")
	func() {
		defer func() { _ = recover() }() // the panic is the point: the deferred Flush must still write
		ctx, b := WithBuffer(context.Background())
		defer func() {
			if err := b.Flush(); err != nil {
				t.Error(err)
			}
		}()
		log.InfoContext(ctx, "before the panic")
		panic("boom")
	}()
	if !strings.Contains(out.all(), "before the panic") {
		t.Fatalf("lost: %q", out.all())
	}
}

// TestBuffersKeepLinesTogether: concurrent units of work, each with its own
// buffer, write their lines whole, together and in order.
func TestBuffersKeepLinesTogether(t *testing.T) {
	var out countingWriter
	log, _ := New(&out, "info")
	const units, lines = 20, 50
	var wg sync.WaitGroup
	for u := range units {
		wg.Go(func() {
			ctx, b := WithBuffer(context.Background())
			defer func() {
				if err := b.Flush(); err != nil {
					t.Error(err)
				}
			}()
			for i := range lines {
				log.InfoContext(ctx, "line", "unit", u, "i", i)
			}
		})
	}
	direct := make(chan struct{})
	go func() { // unbuffered lines at the same time stay whole
		defer close(direct)
		for range lines {
			log.Info("direct")
		}
	}()
	wg.Wait()
	<-direct
	got := withoutTime(t, out.all())
	if len(got) != units*lines+lines {
		t.Fatalf("%d lines, want %d", len(got), units*lines+lines)
	}
	for k := 0; k < len(got); {
		if got[k]["message"] == "direct" {
			k++
			continue
		}
		u := got[k]["unit"]
		for i := range lines {
			if got[k+i]["unit"] != u || got[k+i]["i"] != float64(i) {
				t.Fatalf("line %d: %v; want unit %v line %d", k+i, got[k+i], u, i)
			}
		}
		k += lines
	}
}

// TestBufferIgnoredByOtherHandlers: a logger not made by New writes as it
// always did.
func TestBufferIgnoredByOtherHandlers(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	ctx, b := WithBuffer(context.Background())
	log.InfoContext(ctx, "now")
	if !strings.Contains(out.String(), "now") {
		t.Fatalf("held: %q", out.String())
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
}
