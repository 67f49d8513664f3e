// Package apicontract holds the handler tests to the HTTP contract,
// api/openapi.yaml: Wrap validates every request a test makes and every
// answer it gets (status, headers, body) against the operation the contract
// lists, and Codes reads the contract's error-code tables so the tests can
// compare them with the code's.
package apicontract

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"eventrelay.dev/eventrelay/internal/modroot"
)

// File is the contract, relative to the module root.
const File = "api/openapi.yaml"

// Load reads and resolves the contract, unvalidated.
func Load() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	return loader.LoadFromFile(filepath.Join(modroot.Find(), File))
}

// Function is one deployed function: the contract lists its paths as they
// are on its own URL (ingest), or under one path standing for the whole URL
// (verify, backfill and the forwarder's push endpoint answer alike on every
// path).
type Function struct {
	name string
	path string // "" keeps the request's path
}

// The functions with an HTTP contract.
var (
	Ingest    = Function{name: "ingest"}
	Verify    = Function{name: "verify", path: "/verify"}
	Backfill  = Function{name: "backfill", path: "/backfill"}
	Forwarder = Function{name: "forwarder", path: "/push"}
)

// Path is the contract's path of fn's operations (for ingest, "", as each
// has its own).
func (fn Function) Path() string { return fn.path }

// contract is the loaded contract and its router, shared by every test of
// a package.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	once   sync.Once
	loaded *contract
	errLd  error

	requests atomic.Int64 // requests validated
	answers  atomic.Int64 // answers validated
)

func get(t testing.TB) *contract {
	t.Helper()
	once.Do(func() {
		doc, err := Load()
		if err != nil {
			errLd = err
			return
		}
		if err = doc.Validate(context.Background()); err != nil {
			errLd = fmt.Errorf("%s is not a valid OpenAPI document: %w", File, err)
			return
		}
		// Tests call handlers at any host: route by path alone.
		doc.Servers = nil
		for _, item := range doc.Paths.Map() {
			item.Servers = nil
		}
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			errLd = err
			return
		}
		loaded = &contract{doc: doc, router: r}
	})
	if errLd != nil {
		t.Fatalf("apicontract: %v", errLd)
	}
	return loaded
}

// Counts are the requests and answers validated so far in this process.
func Counts() (requests_, answers_ int64) { return requests.Load(), answers.Load() }

// Wrap serves h and checks each exchange against the contract of fn: the
// request is validated (a request the contract calls invalid must be
// refused with a 4xx), and the answer must be one the operation lists,
// with its headers and a body of its schema. A path or method the contract
// does not list fails the test, except a method the path does not serve
// (answered as its operation's 405) and a path under /attest/ that is no
// exchange route (answered as the contract's AttestNotFound).
func Wrap(t testing.TB, fn Function, h http.Handler) http.Handler {
	c := get(t)
	if c == nil { // get reported why
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Helper()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatalf("apicontract: reading the request body: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)

		where := fmt.Sprintf("%s %s %s → %d", fn.name, r.Method, r.URL.RequestURI(), rec.Code)
		reqErr, input, err := c.checkRequest(fn, r, body)
		if err != nil {
			t.Errorf("apicontract: %s: %v", where, err)
		} else {
			requests.Add(1)
			if reqErr != nil && rec.Code < 400 {
				t.Errorf("apicontract: %s: the contract refuses this request (%v), the handler accepted it", where, reqErr)
			}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: input, Status: rec.Code,
				Header: rec.Header(), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
			out.SetBodyBytes(rec.Body.Bytes())
			if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
				t.Errorf("apicontract: %s: the answer is not in the contract: %v\nbody: %s", where, err, truncate(rec.Body.String()))
			} else {
				answers.Add(1)
			}
			if fn == Ingest && input.Route.Path == "/" {
				for _, err := range c.acceptedEvents(input.Request, rec.Body.Bytes()) {
					t.Errorf("apicontract: %s: %v", where, err)
				}
			}
		}

		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes()) // a test's recorder: nothing to do about a failed write
	})
}

// checkRequest finds the operation the request is for and validates the
// request against it: reqErr is the request's violation (nil when valid),
// err a request the contract has no operation for.
func (c *contract) checkRequest(fn Function, r *http.Request, body []byte) (reqErr error, input *openapi3filter.RequestValidationInput, err error) {
	vr := r.Clone(r.Context())
	u := *r.URL
	if fn.path != "" {
		u.Path, u.RawPath = fn.path, ""
	}
	vr.URL = &u
	vr.RequestURI = ""
	decoded := body
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		// The contract describes what the body expands to.
		zr, zerr := gzip.NewReader(bytes.NewReader(body))
		if zerr == nil {
			decoded, zerr = io.ReadAll(zr)
		}
		if zerr != nil {
			reqErr = fmt.Errorf("the body is not gzip: %v", zerr)
		}
	}
	vr.Body = io.NopCloser(bytes.NewReader(decoded))

	route, params, ferr := c.router.FindRoute(vr)
	switch {
	case errors.Is(ferr, routers.ErrMethodNotAllowed):
		// The contract lists what the path serves; any other method is
		// answered as its operations' 405.
		route, err = c.otherMethod(u.Path)
		if err != nil {
			return nil, nil, err
		}
		return fmt.Errorf("method %s is not one the path serves", r.Method),
			&openapi3filter.RequestValidationInput{Request: vr, Route: route}, nil
	case errors.Is(ferr, routers.ErrPathNotFound) && fn == Ingest && strings.HasPrefix(u.Path, "/attest/"):
		return fmt.Errorf("no exchange route %s", u.Path),
			&openapi3filter.RequestValidationInput{Request: vr, Route: c.component(r.Method, u.Path, "404", "AttestNotFound")}, nil
	case ferr != nil:
		return nil, nil, fmt.Errorf("the contract has no operation for %s %s: %v", r.Method, u.Path, ferr)
	}
	input = &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: presented}}
	if reqErr == nil {
		reqErr = openapi3filter.ValidateRequest(r.Context(), input)
	}
	vr.Body = io.NopCloser(bytes.NewReader(decoded))
	return reqErr, input, nil
}

// acceptedEvents checks each event ingest answered as accepted against the
// contract's Event schema: the request's schema takes any objects (each is
// judged on its own), so this is where Event is held to the code.
func (c *contract) acceptedEvents(r *http.Request, answer []byte) []error {
	var a struct {
		Accepted []struct{ Index int } `json:"accepted"`
	}
	if json.Unmarshal(answer, &a) != nil || len(a.Accepted) == 0 {
		return nil
	}
	body, _ := io.ReadAll(r.Body)
	var events []any
	var one any
	if err := json.Unmarshal(body, &one); err != nil {
		return []error{fmt.Errorf("events accepted from a body that is not JSON: %v", err)}
	}
	switch v := one.(type) {
	case []any:
		events = v
	case map[string]any:
		if list, ok := v["events"].([]any); ok {
			events = list
		} else {
			events = []any{v}
		}
	}
	schema := c.doc.Components.Schemas["Event"].Value
	var errs []error
	for _, acc := range a.Accepted {
		if acc.Index < 0 || acc.Index >= len(events) {
			errs = append(errs, fmt.Errorf("accepted index %d of %d events", acc.Index, len(events)))
			continue
		}
		if err := schema.VisitJSON(events[acc.Index]); err != nil {
			errs = append(errs, fmt.Errorf("event %d was accepted, but the contract's Event refuses it: %v", acc.Index, err))
		}
	}
	return errs
}

// otherMethod is a route whose one operation is the 405 answer the path's
// operations list (every one must list it, alike).
func (c *contract) otherMethod(path string) (*routers.Route, error) {
	item := c.doc.Paths.Find(path)
	if item == nil {
		return nil, fmt.Errorf("no path %s", path)
	}
	var answer *openapi3.ResponseRef
	for method, op := range item.Operations() {
		a := op.Responses.Status(http.StatusMethodNotAllowed)
		if a == nil {
			return nil, fmt.Errorf("%s %s lists no 405 answer for the methods the path does not serve", method, path)
		}
		answer = a
	}
	op := openapi3.NewOperation()
	op.Responses = openapi3.NewResponses(openapi3.WithStatus(http.StatusMethodNotAllowed, answer))
	return &routers.Route{Spec: c.doc, Path: path, PathItem: item, Operation: op}, nil
}

// component is a route whose one operation answers status with the
// contract's components.responses[name].
func (c *contract) component(method, path, status, name string) *routers.Route {
	op := openapi3.NewOperation()
	op.Responses = openapi3.NewResponses()
	op.Responses.Set(status, c.doc.Components.Responses[name])
	return &routers.Route{Spec: c.doc, Path: path, Method: method, Operation: op}
}

// presented checks that the credential a security scheme names is there;
// whether it is right is the handler's to say.
func presented(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	h := in.RequestValidationInput.Request.Header
	switch {
	case s.Type == "apiKey" && s.In == "header":
		if h.Get(s.Name) == "" {
			return fmt.Errorf("no %s header", s.Name)
		}
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		token, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			return errors.New("no Authorization: Bearer")
		}
	default:
		return fmt.Errorf("security scheme %s (%s) is not checked by apicontract", in.SecuritySchemeName, s.Type)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}

// Main runs a package's tests and prints how many exchanges were validated.
// When every test ran (no -run filter) and passed, fewer than min validated
// answers fail the run: a handler test that stopped going through Wrap is
// noticed.
func Main(m *testing.M, min int64) int {
	code := m.Run()
	req, ans := Counts()
	fmt.Printf("apicontract: %d requests and %d answers validated against %s\n", req, ans, File)
	if f := flag.Lookup("test.run"); code == 0 && f != nil && f.Value.String() == "" && ans < min {
		fmt.Printf("apicontract: FAIL: at least %d answers should have been validated\n", min)
		return 1
	}
	return code
}

// Codes maps each value of property (such as "error") that the answers of
// method path can carry to the statuses that carry it, as the enums of
// their JSON bodies list them.
func Codes(t testing.TB, method, path, property string) map[string][]int {
	t.Helper()
	c := get(t)
	item := c.doc.Paths.Value(path)
	if item == nil || item.GetOperation(method) == nil {
		t.Fatalf("apicontract: %s lists no %s %s", File, method, path)
	}
	out := map[string][]int{}
	for code, ref := range item.GetOperation(method).Responses.Map() {
		var status int
		if _, err := fmt.Sscan(code, &status); err != nil || ref.Value == nil {
			continue
		}
		for mime, mt := range ref.Value.Content {
			if !strings.HasSuffix(mime, "json") || mt.Schema == nil {
				continue
			}
			for _, v := range enum(mt.Schema.Value, property) {
				out[v] = append(out[v], status)
			}
		}
	}
	for v := range out {
		slices.Sort(out[v])
	}
	return out
}

// enum is the values s allows for property, through allOf, oneOf and anyOf.
func enum(s *openapi3.Schema, property string) []string {
	if s == nil {
		return nil
	}
	var out []string
	if p, ok := s.Properties[property]; ok && p.Value != nil {
		for _, v := range p.Value.Enum {
			out = append(out, fmt.Sprint(v))
		}
	}
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, sub := range group {
			out = append(out, enum(sub.Value, property)...)
		}
	}
	return out
}

// CheckCodes fails the test unless the code emits every code of the
// contract, each with a status the contract lists for it, and the contract
// lists every code the code emits, under that status.
func CheckCodes(t testing.TB, emitted map[string]int, contract map[string][]int) {
	t.Helper()
	for code, status := range emitted {
		if !slices.Contains(contract[code], status) {
			t.Errorf("%s: the code answers %q with %d; the contract lists it under %v", File, code, status, contract[code])
		}
	}
	for code, statuses := range contract {
		if _, ok := emitted[code]; !ok {
			t.Errorf("%s lists %q (%v), which the code never answers", File, code, statuses)
		}
	}
}

// CheckDocTable fails the test unless a documentation table (code →
// status, as internal/readme reads it) agrees with the contract: every
// code of the contract, but those the doc states elsewhere, is in the
// table under a status the contract lists for it, and every code of the
// table the contract knows is under one of its statuses. Other quoted
// words of the table (settings, headers) are not codes and are let be.
func CheckDocTable(t testing.TB, doc string, documented map[string]int, contract map[string][]int, elsewhere ...string) {
	t.Helper()
	for code, statuses := range contract {
		status, ok := documented[code]
		switch {
		case !ok && !slices.Contains(elsewhere, code):
			t.Errorf("%s: %q (%v in %s) is not in the table", doc, code, statuses, File)
		case ok && !slices.Contains(statuses, status):
			t.Errorf("%s says %q is %d; %s lists it under %v", doc, code, status, File, statuses)
		}
	}
}
