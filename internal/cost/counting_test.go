package cost

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/protobuf/proto"

	"eventrelay.dev/eventrelay/shared/logging"
)

// tally is a set of named counts shared by the counting stand-ins below;
// the measurement reads a snapshot before and after each phase.
type tally struct {
	mu sync.Mutex
	n  map[string]float64
}

func newTally() *tally { return &tally{n: map[string]float64{}} }

func (t *tally) add(name string, v float64) {
	t.mu.Lock()
	t.n[name] += v
	t.mu.Unlock()
}

// atLeast raises a count to v (a maximum, not a sum).
func (t *tally) atLeast(name string, v float64) {
	t.mu.Lock()
	t.n[name] = max(t.n[name], v)
	t.mu.Unlock()
}

func (t *tally) snapshot() map[string]float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]float64, len(t.n))
	for k, v := range t.n {
		out[k] = v
	}
	return out
}

// logRouter is the stack's logger: each function's lines go through the
// functions' own JSON handler (shared/logging, at the deployed level) into
// a byte and line count of that function. The wiring names the function
// with Logger.With("function", …), which is how a line is attributed;
// lines logged before that (the stack's own) count as "stack".
type logRouter struct {
	t     *tally
	level string
}

func (r *logRouter) logger(tb testing.TB) *slog.Logger {
	return slog.New(routeHandler{r: r, tb: tb, inner: r.handler(tb, "stack")})
}

func (r *logRouter) handler(tb testing.TB, fn string) slog.Handler {
	l, err := logging.New(countingWriter{t: r.t, fn: fn}, r.level)
	if err != nil {
		tb.Fatal(err)
	}
	return l.Handler()
}

type routeHandler struct {
	r     *logRouter
	tb    testing.TB
	inner slog.Handler
}

func (h routeHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }
func (h routeHandler) Handle(ctx context.Context, rec slog.Record) error {
	return h.inner.Handle(ctx, rec)
}
func (h routeHandler) WithGroup(name string) slog.Handler {
	return routeHandler{h.r, h.tb, h.inner.WithGroup(name)}
}

// WithAttrs starts the function's own handler at its "function" attribute;
// after that, the handler is the function's JSON handler itself.
func (h routeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	for _, a := range as {
		if a.Key == "function" {
			return h.r.handler(h.tb, a.Value.String()).WithAttrs(as)
		}
	}
	return routeHandler{h.r, h.tb, h.inner.WithAttrs(as)}
}

// countingWriter counts what a function's handler writes: bytes, and lines
// (one JSON object a line, newline included, as stdout carries them).
type countingWriter struct {
	t  *tally
	fn string
}

func (w countingWriter) Write(p []byte) (int, error) {
	w.t.add("log."+w.fn+".bytes", float64(len(p)))
	w.t.add("log."+w.fn+".lines", float64(bytes.Count(p, []byte{'\n'})))
	return len(p), nil
}

// firestoreCounter serves as the Firestore emulator's address and passes
// every gRPC call on to it, counting what Firestore bills: a document read
// per document a get asks for (found or not) and per document a query
// returns (one for a query that returns none), a write per document a
// commit sets, creates or updates, a delete per document it deletes.
// Transactions' begin and rollback are free, and counted as calls only.
func firestoreCounter(t *testing.T, emulator string, counts *tally) string {
	t.Helper()
	target := &url.URL{Scheme: "http", Host: emulator}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1
	// gRPC is HTTP/2 without TLS to the emulator (prior knowledge).
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	proxy.Transport = tr
	proxy.ModifyResponse = func(resp *http.Response) error {
		if strings.HasSuffix(resp.Request.URL.Path, "/RunQuery") {
			resp.Body = &queryResults{ReadCloser: resp.Body, counts: counts}
		}
		return nil
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		counts.add("firestore.calls."+method, 1)
		for _, msg := range grpcMessages(body) {
			switch method {
			case "Commit":
				var req firestorepb.CommitRequest
				if err := proto.Unmarshal(msg, &req); err != nil {
					t.Errorf("Commit request: %v", err)
				}
				for _, w := range req.Writes {
					if w.GetDelete() != "" {
						counts.add("firestore.deletes", 1)
					} else {
						counts.add("firestore.writes", 1)
					}
				}
			case "BatchGetDocuments":
				var req firestorepb.BatchGetDocumentsRequest
				if err := proto.Unmarshal(msg, &req); err != nil {
					t.Errorf("BatchGetDocuments request: %v", err)
				}
				counts.add("firestore.reads", float64(len(req.Documents)))
			case "GetDocument":
				counts.add("firestore.reads", 1)
			}
		}
		pass(w, r, body, proxy)
	})
	return serve(t, h)
}

// pass sends the request on with the body the counter read.
func pass(w http.ResponseWriter, r *http.Request, body []byte, proxy http.Handler) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	proxy.ServeHTTP(w, r)
}

// serve serves h on a loopback port until the test ends: its address.
func serve(t *testing.T, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// HTTP/1.1 for DynamoDB's JSON, unencrypted HTTP/2 for Firestore's gRPC.
	srv := &http.Server{Handler: h, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go func() { _ = srv.Serve(ln) }() // Serve ends with ErrServerClosed at Cleanup
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// queryResults counts the documents a RunQuery stream returns, at its end.
type queryResults struct {
	io.ReadCloser
	counts *tally
	buf    bytes.Buffer
	done   bool
}

func (q *queryResults) Read(p []byte) (int, error) {
	n, err := q.ReadCloser.Read(p)
	q.buf.Write(p[:n])
	if err == io.EOF && !q.done {
		q.done = true
		docs := 0
		for _, msg := range grpcMessages(q.buf.Bytes()) {
			var resp firestorepb.RunQueryResponse
			if proto.Unmarshal(msg, &resp) == nil && resp.Document != nil {
				docs++
			}
		}
		q.counts.add("firestore.reads", float64(max(docs, 1)))
	}
	return n, err
}

// grpcMessages splits a gRPC body into its length-prefixed messages.
func grpcMessages(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 5 {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if len(b) < 5+n {
			break
		}
		out = append(out, b[5:5+n])
		b = b[5+n:]
	}
	return out
}

// dynamoCounter serves as DynamoDB's endpoint and passes every call on to
// dynalite, counting what on-demand capacity bills: a write request unit
// per item a call writes or deletes (items here are under 1 KB; the
// largest is recorded to show it), two for an item of a transaction; a
// read request unit per strongly consistent read of up to 4 KB (half for
// an eventually consistent one), a query's by the size of its answer.
func dynamoCounter(t *testing.T, endpoint string, counts *tally) string {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if !strings.HasSuffix(resp.Request.Header.Get("X-Amz-Target"), ".Query") {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		units := float64((len(body) + 4095) / 4096)
		if resp.Request.Header.Get("X-Consistent") != "true" {
			units /= 2
		}
		counts.add("dynamodb.rru", units)
		return nil
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		op = op[strings.LastIndex(op, ".")+1:]
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		var req struct {
			ConsistentRead bool
			RequestItems   map[string]json.RawMessage
			TransactItems  []json.RawMessage
			Item           json.RawMessage
		}
		if err := json.Unmarshal(body, &req); err != nil {
			t.Errorf("%s: %v", op, err)
		}
		counts.add("dynamodb.calls."+op, 1)
		item := func(raw []byte) {
			counts.add("dynamodb.wru", 1)
			counts.atLeast("dynamodb.largest_item_json_bytes", float64(len(raw)))
		}
		switch op {
		case "PutItem", "UpdateItem", "DeleteItem":
			item(req.Item)
		case "BatchWriteItem":
			for _, raw := range req.RequestItems {
				var items []json.RawMessage
				if err := json.Unmarshal(raw, &items); err != nil {
					t.Errorf("%s: %v", op, err)
				}
				for _, it := range items {
					item(it)
				}
			}
		case "BatchGetItem":
			for _, raw := range req.RequestItems {
				var get struct {
					Keys           []json.RawMessage
					ConsistentRead bool
				}
				if err := json.Unmarshal(raw, &get); err != nil {
					t.Errorf("%s: %v", op, err)
				}
				units := float64(len(get.Keys))
				if !get.ConsistentRead {
					units /= 2
				}
				counts.add("dynamodb.rru", units)
			}
		case "TransactWriteItems":
			for _, it := range req.TransactItems {
				item(it)
				item(it)
			}
		case "GetItem":
			if req.ConsistentRead {
				counts.add("dynamodb.rru", 1)
			} else {
				counts.add("dynamodb.rru", 0.5)
			}
		}
		if req.ConsistentRead {
			r.Header.Set("X-Consistent", "true")
		}
		pass(w, r, body, proxy)
	})
	return "http://" + serve(t, h)
}
