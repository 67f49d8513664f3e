package logging

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
)

// handler is New's slog.Handler: Go's JSON handler writing to the logger's
// writer, except for records logged with a context from WithBuffer, which
// are encoded the same way into that buffer and written out together when
// it is flushed. A request that logs a line per event then costs one
// write(2) instead of one per line, and its lines stay whole and in order
// next to other requests' lines (each flush is one Write under the
// writer's lock).
type handler struct {
	out  *lockedWriter
	opts *slog.HandlerOptions
	json slog.Handler // slog.NewJSONHandler(out, opts) with ops applied
	ops  []func(slog.Handler) slog.Handler
}

func newHandler(w io.Writer, opts *slog.HandlerOptions) *handler {
	out := &lockedWriter{w: w}
	return &handler{out: out, opts: opts, json: slog.NewJSONHandler(out, opts)}
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.json.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if b, _ := ctx.Value(bufferKey{}).(*Buffer); b != nil {
		if held, err := b.handle(ctx, h, r); held {
			return err
		}
	}
	return h.json.Handle(ctx, r)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return h.with(func(j slog.Handler) slog.Handler { return j.WithAttrs(as) })
}

func (h *handler) WithGroup(name string) slog.Handler {
	return h.with(func(j slog.Handler) slog.Handler { return j.WithGroup(name) })
}

// with derives a handler; op is kept so that a Buffer can build the same
// JSON handler over its own bytes.
func (h *handler) with(op func(slog.Handler) slog.Handler) *handler {
	ops := append(h.ops[:len(h.ops):len(h.ops)], op)
	return &handler{out: h.out, opts: h.opts, json: op(h.json), ops: ops}
}

// lockedWriter serialises the writes of every handler derived from one New.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Buffer holds the lines of one unit of work (an HTTP request) until Flush.
// Lines keep the time they were logged at. Only loggers from New buffer;
// any other handler writes as usual, and so does every logger once the
// buffer is flushed (a goroutine that outlives the request loses nothing).
type Buffer struct {
	mu      sync.Mutex // held while a line is encoded, so Flush never cuts one
	lines   *lines     // from linesPool, taken at the first line
	flushed bool
}

// lines is a Buffer's bytes and the JSON handler that encodes into them,
// kept across requests: a batch's lines are some 20 KB, and the handler
// (with the logger's attributes already encoded) is built once per logger,
// not once per request.
type lines struct {
	bytes.Buffer
	out  *lockedWriter // where they are flushed: from's
	from *handler      // the handler jh encodes like
	jh   slog.Handler  // slog.NewJSONHandler(these lines, from.opts) with from.ops
}

var linesPool = sync.Pool{New: func() any { return new(lines) }}

type bufferKey struct{}

// WithBuffer returns a context whose log lines (from loggers made by New)
// are held in the returned Buffer. Flush it when the work ends, with defer,
// so the lines are written even if the work fails or panics.
func WithBuffer(ctx context.Context) (context.Context, *Buffer) {
	b := &Buffer{}
	return context.WithValue(ctx, bufferKey{}, b), b
}

// handle encodes r into the buffer as h would write it. It holds nothing
// (held false) once flushed, or for a handler that writes elsewhere than
// the lines already held.
func (b *Buffer) handle(ctx context.Context, h *handler, r slog.Record) (held bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flushed {
		return false, nil
	}
	if b.lines == nil {
		b.lines = linesPool.Get().(*lines)
		b.lines.out = h.out
	}
	l := b.lines
	if l.out != h.out {
		return false, nil
	}
	if l.from != h {
		var jh slog.Handler = slog.NewJSONHandler(l, h.opts)
		for _, op := range h.ops {
			jh = op(jh)
		}
		l.from, l.jh = h, jh
	}
	return true, l.jh.Handle(ctx, r)
}

// Flush writes the held lines with one Write; lines logged afterwards are
// written directly.
func (b *Buffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flushed {
		return nil
	}
	b.flushed = true
	l := b.lines
	if l == nil {
		return nil
	}
	b.lines = nil
	var err error
	if l.Len() > 0 {
		_, err = l.out.Write(l.Bytes())
	}
	if l.Cap() <= 1<<20 { // an odd huge buffer is left to the GC
		l.Reset()
		linesPool.Put(l)
	}
	return err
}
