package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// ErrNoEvents is returned for an empty batch.
var ErrNoEvents = errors.New("the request holds no events")

// Split returns the raw events of a request body, which is one event object,
// a JSON array of events, or an envelope {"events":[...]}. The body must be
// well-formed JSON as a whole: a syntax error cannot be pinned to one event.
func Split(body []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, errors.New("the body is empty")
	}
	switch trimmed[0] {
	case '[':
		return splitArray(body)
	case '{':
		// Most bodies are one event: one that cannot be an envelope is one
		// event if it is valid JSON, which is cheaper to check than
		// decoding it.
		if !mayBeEnvelope(body) && json.Valid(body) {
			return []json.RawMessage{body}, nil
		}
		return splitObject(body)
	default:
		return nil, errors.New("the body must be a JSON object, an array of objects, or {\"events\":[...]}")
	}
}

// mayBeEnvelope reports whether the object body could hold an "events"
// key: only a key that reads "events" makes an envelope, and without those
// bytes or a \u escape (the one escape that can spell a letter) none can.
func mayBeEnvelope(body []byte) bool {
	return bytes.Contains(body, []byte("events")) || bytes.Contains(body, []byte(`\u`))
}

// splitObject is Split for a body that starts with '{'.
func splitObject(body []byte) ([]json.RawMessage, error) {
	// Find out whether an "events" key is there without building a map of
	// every field (encoding/json matches struct fields case-insensitively,
	// so this finds every key the map lookup below could, and a few more,
	// which then take the slow path).
	var probe struct {
		Events json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, describeSyntax(err)
	}
	if probe.Events == nil {
		return []json.RawMessage{body}, nil
	}
	var envelope map[string]json.RawMessage
	if err := json.Unmarshal(body, &envelope); err != nil {
		return nil, describeSyntax(err)
	}
	events, ok := envelope["events"]
	if !ok {
		return []json.RawMessage{body}, nil
	}
	if len(envelope) != 1 {
		return nil, errors.New(`an {"events":[...]} envelope must hold no other keys`)
	}
	if bytes.Equal(bytes.TrimSpace(events), []byte("null")) || events[0] != '[' {
		return nil, errors.New(`"events" must be an array of event objects`)
	}
	return splitArray(events)
}

// splitArray returns the elements of the JSON array b as sub-slices of b
// (json.Unmarshal into []json.RawMessage would copy each one): one
// validating pass, then a cut at each top-level comma. Invalid input goes
// through json.Unmarshal for its error.
func splitArray(b []byte) ([]json.RawMessage, error) {
	if !json.Valid(b) {
		var raws []json.RawMessage
		err := json.Unmarshal(b, &raws)
		if err == nil { // cannot happen: Unmarshal validates as Valid does
			err = errors.New("invalid JSON")
		}
		return nil, describeSyntax(err)
	}
	raws := cutArray(b)
	if len(raws) == 0 {
		return nil, ErrNoEvents
	}
	return raws, nil
}

// cutArray cuts the JSON array b at each top-level comma and returns its
// elements, trimmed, as sub-slices of b. It scans quickly and checks
// nothing: on anything but a valid array its answer means nothing (it never
// panics, though), so it runs after json.Valid.
func cutArray(b []byte) []json.RawMessage {
	raws := make([]json.RawMessage, 0, 1+bytes.Count(b, []byte("},{")))
	depth, start, inString := 0, -1, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped byte cannot end the string
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth == 1 {
				start = i + 1
			}
			continue
		case ']', '}':
			depth--
			if depth == 0 {
				if el := bytes.TrimSpace(b[start:i]); len(el) > 0 {
					raws = append(raws, el)
				}
			}
			continue
		case ',':
			if depth == 1 {
				raws = append(raws, bytes.TrimSpace(b[start:i]))
				start = i + 1
			}
			continue
		}
	}
	return raws
}

func describeSyntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed JSON at byte %d: %s", se.Offset, se.Error())
	}
	return fmt.Errorf("malformed JSON: %s", err.Error())
}

// Decode reads one raw event strictly: unknown fields and wrong types are
// reported against the field that carries them.
func Decode(raw []byte) (Event, *FieldError) {
	var e Event
	return e, decodeInto(raw, &e)
}

// decodeInto is Decode into a zero *e.
func decodeInto(raw []byte, e *Event) *FieldError {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return &FieldError{Field: "", Reason: "each event must be a JSON object"}
	}
	// encoding/json matches names case-insensitively and lets the last of
	// two equal names win, so {"consent":false,"Consent":true} would be
	// consented: a name given twice, or not spelt exactly as declared, is
	// refused first (as the v2 fast path refuses them).
	if ferr := strictNames(trimmed); ferr != nil {
		return ferr
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(e); err != nil {
		ferr := decodeError(err)
		if ferr.Reason == "unknown field" {
			if path := unknownFieldPath(trimmed, reflect.TypeFor[Event]()); path != "" {
				ferr.Field = path
			}
		}
		return ferr
	}
	return nil
}

// DecodeInto is Decode into *e, which must be the zero Event, faster: it
// decodes first with go-json-experiment/json (encoding/json v2, much
// quicker than encoding/json) and takes that result only when the decode is
// clean. v2 is stricter than encoding/json, which Decode uses: it matches
// names case-sensitively and refuses duplicate names, invalid UTF-8 and
// anything after the value. What it refuses, and every error, is decoded
// again as Decode decodes, so the answers, errors included, are Decode's;
// FuzzParse checks that what v2 takes decodes to the same Event as with
// Decode.
func DecodeInto(raw []byte, e *Event) *FieldError {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return decodeInto(raw, e)
	}
	if decodeWhole(trimmed, e) {
		return nil
	}
	*e = Event{}
	return decodeInto(raw, e)
}

// fastOptions are v2's defaults (exact names, no duplicate names, valid
// UTF-8 only) with unknown members refused, as decodeInto refuses them.
var fastOptions = jsonv2.RejectUnknownMembers(true)

// decodeWhole decodes the JSON value b into v (a zero value) with v2 and
// reports whether that was clean: no error and nothing of b left over.
func decodeWhole(b []byte, v any) bool {
	return jsonv2.Unmarshal(b, v, fastOptions) == nil
}

// DecodeBody is Split followed by Decode of every event, in fewer passes
// over the body, for the bodies nearly every caller sends: a JSON array of
// events, or one event that Split takes without decoding its envelope probe.
// Split validates the whole body and each event's decode scans it again
// before decoding; here one v2 decode reads, and so validates, the body
// once. ok is true only when that gave the same events as the
// usual way without any error: at most maxEvents events, each a JSON object
// of at most maxEventBytes bytes, all decoding cleanly; then raws are what
// Split returns and events[i] is raws[i] decoded. Otherwise (an envelope, an
// error of any kind, a limit passed) it returns nothing, and the caller goes
// the usual way, whose answers and errors stay the only ones.
func DecodeBody(body []byte, maxEvents, maxEventBytes int) (raws []json.RawMessage, events []Event, ok bool) {
	trimmed := bytes.Trim(body, " \t\r\n") // JSON's white space only: TrimSpace would take a \v Split refuses
	if len(trimmed) == 0 {
		return nil, nil, false
	}
	switch trimmed[0] {
	case '{':
		if len(body) > maxEventBytes || maxEvents < 1 || mayBeEnvelope(body) {
			return nil, nil, false
		}
		events = make([]Event, 1)
		if !decodeWhole(trimmed, &events[0]) {
			return nil, nil, false
		}
		return []json.RawMessage{body}, events, true
	case '[':
		st := streams.Get().(*stream)
		defer streams.Put(st)
		return st.decodeArray(body, maxEvents, maxEventBytes)
	}
	return nil, nil, false
}

// stream is what decodeArray reads a body with, kept from body to body
// (streams): dec reads straight from the body's bytes through src, and keeps
// v2's cache of recent strings (256 of up to 256 bytes).
type stream struct {
	src bytes.Reader
	dec jsontext.Decoder
}

var streams = sync.Pool{New: func() any { return new(stream) }}

// decodeArray is DecodeBody for a body that starts with '['. The elements
// are decoded one after another from one stream, so that the decoder's
// offsets give each raw event, cut as splitArray cuts it, without another
// pass over the body.
func (st *stream) decodeArray(body []byte, maxEvents, maxEventBytes int) ([]json.RawMessage, []Event, bool) {
	st.src.Reset(body)
	st.dec.Reset(&st.src, fastOptions)
	defer func() { // a stream kept for later must not keep the body
		st.src.Reset(nil)
		st.dec.Reset(&st.src)
	}()
	if tok, err := st.dec.ReadToken(); err != nil || tok.Kind() != '[' {
		return nil, nil, false
	}
	raws, events := make([]json.RawMessage, 0, 1), make([]Event, 0, 1)
	// Only objects: null, say, would decode cleanly into a zero Event,
	// where Decode refuses it; anything else ends the loop and fails the
	// ']' check below.
	for st.dec.PeekKind() == '{' {
		if len(events) == maxEvents {
			return nil, nil, false
		}
		from := st.dec.InputOffset() // after the '[' or the previous event
		events = append(events, Event{})
		if jsonv2.UnmarshalDecode(&st.dec, &events[len(events)-1]) != nil {
			return nil, nil, false
		}
		raw := body[from:st.dec.InputOffset()] // white space and a comma, then the event
		raw = raw[bytes.IndexByte(raw, '{'):]
		if len(raw) > maxEventBytes {
			return nil, nil, false
		}
		raws = append(raws, raw)
		if len(events) == 1 {
			// Room for as many events as the body holds if all are about
			// the size of the first, as one sender's nearly always are.
			n := min(len(body)/len(raw), maxEvents) - 1
			raws, events = slices.Grow(raws, n), slices.Grow(events, n)
		}
	}
	if tok, err := st.dec.ReadToken(); err != nil || tok.Kind() != ']' || len(events) == 0 {
		return nil, nil, false
	}
	if _, err := st.dec.ReadToken(); err != io.EOF { // nothing after the array
		return nil, nil, false
	}
	return raws, events, true
}

func decodeError(err error) *FieldError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		reason := fmt.Sprintf("must be %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)
		if errors.Is(err, errTimestampType) || strings.HasSuffix(field, "timestamp") {
			reason = errTimestampType.Error()
		}
		return &FieldError{Field: field, Reason: reason}
	}
	if errors.Is(err, errTimestampType) {
		return &FieldError{Field: "timestamp", Reason: errTimestampType.Error()}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return &FieldError{Field: strings.Trim(name, `"`), Reason: "unknown field"}
	}
	return &FieldError{Field: "", Reason: strings.TrimPrefix(msg, "json: ")}
}

// strictNames refuses an event whose objects hold a name twice, or a name
// that is no field's exact spelling.
func strictNames(raw []byte) *FieldError {
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	for {
		_, err := dec.ReadToken()
		if err == io.EOF {
			break
		}
		if errors.Is(err, jsontext.ErrDuplicateName) {
			var se *jsontext.SyntacticError
			field := ""
			if errors.As(err, &se) {
				field = strings.ReplaceAll(strings.TrimPrefix(string(se.JSONPointer), "/"), "/", ".")
			}
			return &FieldError{Field: field, Reason: "given more than once"}
		}
		if err != nil {
			return nil // a syntax error: encoding/json names it
		}
	}
	if path := unknownFieldPath(raw, reflect.TypeFor[Event]()); path != "" {
		return &FieldError{Field: path, Reason: "unknown field"}
	}
	return nil
}

// unknownFieldPath finds the full path of the first key in raw that t does
// not declare (encoding/json names only the key). It runs on the error path
// only.
func unknownFieldPath(raw []byte, t reflect.Type) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return walkUnknown(v, t, "")
}

func walkUnknown(v any, t reflect.Type, prefix string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		for _, key := range slices.Sorted(maps.Keys(obj)) {
			f, ok := fieldByTag(t, key)
			if !ok {
				return prefix + key
			}
			if p := walkUnknown(obj[key], f.Type, prefix+key+"."); p != "" {
				return p
			}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return ""
		}
		for i, el := range arr {
			if p := walkUnknown(el, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(prefix, "."), i)); p != "" {
				return p
			}
		}
	}
	return ""
}

func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int32", "int64", "float64":
		return "a number"
	case "struct", "ptr", "map":
		return "an object"
	case "slice":
		return "an array"
	case "bool":
		return "a boolean"
	}
	return goKind
}
