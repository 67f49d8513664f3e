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
		if jh := b.handlerFor(h); jh != nil {
			return jh.Handle(ctx, r)
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
	mu      sync.Mutex
	buf     *bytes.Buffer // from bufPool, taken at the first line
	flushed bool
	out     *lockedWriter // where Flush writes: the first buffered handler's
	from    *handler      // the handler jh was built for
	jh      slog.Handler  // a JSON handler over buf, like from.json
}

// bufPool keeps the bytes of flushed buffers: a batch's lines are some
// 20 KB, which would otherwise be grown anew for every request.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

type bufferKey struct{}

// WithBuffer returns a context whose log lines (from loggers made by New)
// are held in the returned Buffer. Flush it when the work ends, with defer,
// so the lines are written even if the work fails or panics.
func WithBuffer(ctx context.Context) (context.Context, *Buffer) {
	b := &Buffer{}
	return context.WithValue(ctx, bufferKey{}, b), b
}

// handlerFor returns a JSON handler encoding like h into b, or nil when h
// writes elsewhere than the lines already held (those go out directly).
func (b *Buffer) handlerFor(h *handler) slog.Handler {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flushed {
		return nil
	}
	if b.out == nil {
		b.out = h.out
		b.buf = bufPool.Get().(*bytes.Buffer)
	}
	if b.out != h.out {
		return nil
	}
	if b.from != h {
		var jh slog.Handler = slog.NewJSONHandler(bufferWriter{b}, h.opts)
		for _, op := range h.ops {
			jh = op(jh)
		}
		b.from, b.jh = h, jh
	}
	return b.jh
}

// bufferWriter appends one encoded line to the buffer; the JSON handler
// writes each line with one call.
type bufferWriter struct{ b *Buffer }

func (w bufferWriter) Write(p []byte) (int, error) {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	if w.b.flushed { // a line begun before Flush and ended after it
		return w.b.out.Write(p)
	}
	return w.b.buf.Write(p)
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
	if b.buf == nil {
		return nil
	}
	var err error
	if b.buf.Len() > 0 {
		_, err = b.out.Write(b.buf.Bytes())
	}
	if b.buf.Cap() <= 1<<20 { // an odd huge buffer is left to the GC
		b.buf.Reset()
		bufPool.Put(b.buf)
	}
	b.buf = nil
	return err
}
