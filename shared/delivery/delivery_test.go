package delivery

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
)

func TestClassOf(t *testing.T) {
	// The class strings are what backfill's reasons filter, the logs and
	// the log-based metrics read: they must not change.
	for _, c := range []struct {
		res  mcm.Result
		want string
	}{
		{mcm.Result{Status: 200, Class: mcm.Delivered}, ""},
		{mcm.Result{Status: 400, Class: mcm.Permanent}, "permanent"},
		{mcm.Result{Status: 401, Class: mcm.AuthFailed}, "auth"},
		{mcm.Result{Status: 403, Class: mcm.AuthFailed}, "auth"},
		{mcm.Result{Status: 503, Class: mcm.Retryable}, "retryable"},
		{mcm.Result{Status: 429, Class: mcm.Retryable}, "retryable"},
		{mcm.Result{Err: errors.New("dial tcp: refused"), Class: mcm.Retryable}, "retryable"},
		{mcm.Result{Class: mcm.Class(99)}, "retryable"}, // unforeseen: kept, never dropped
	} {
		if got := ClassOf(c.res); got != c.want {
			t.Errorf("ClassOf(%+v) = %q, want %q", c.res, got, c.want)
		}
	}
}

func TestReason(t *testing.T) {
	if got := Reason(mcm.Result{Message: "page_id is required", Err: errors.New("x")}); got != "page_id is required" {
		t.Errorf("platform message: %q", got)
	}
	if got := Reason(mcm.Result{Err: errors.New("context deadline exceeded")}); got != "context deadline exceeded" {
		t.Errorf("transport error: %q", got)
	}
	if got := Reason(mcm.Result{}); got != "" {
		t.Errorf("nothing: %q", got)
	}
}

// script answers sends in order, then repeats the last answer.
type script struct {
	answers []mcm.Result
	calls   int
}

func (s *script) Send(context.Context, []byte) mcm.Result {
	r := s.answers[min(s.calls, len(s.answers)-1)]
	s.calls++
	return r
}

func TestSendRereadsTheKeyOnceOnAuthFailure(t *testing.T) {
	ok := mcm.Result{Status: 200, Class: mcm.Delivered}
	denied := mcm.Result{Status: 401, Class: mcm.AuthFailed}
	forbidden := mcm.Result{Status: 403, Class: mcm.AuthFailed}
	down := mcm.Result{Status: 503, Class: mcm.Retryable}
	for _, c := range []struct {
		name                 string
		answers              []mcm.Result
		want                 mcm.Result
		calls, invalidations int
	}{
		{"delivered", []mcm.Result{ok}, ok, 1, 0},
		{"5xx is not a key problem", []mcm.Result{down}, down, 1, 0},
		{"rotated key", []mcm.Result{denied, ok}, ok, 2, 1},
		{"403 too", []mcm.Result{forbidden, ok}, ok, 2, 1},
		{"still refused: once only", []mcm.Result{denied, denied, ok}, denied, 2, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &script{answers: c.answers}
			n := 0
			got := Send(context.Background(), s, func() { n++ }, []byte("{}"))
			if got != c.want || s.calls != c.calls || n != c.invalidations {
				t.Fatalf("got %+v after %d calls, %d invalidations; want %+v, %d, %d", got, s.calls, n, c.want, c.calls, c.invalidations)
			}
		})
	}
	s := &script{answers: []mcm.Result{denied, ok}}
	if got := Send(context.Background(), s, nil, nil); got != ok || s.calls != 2 {
		t.Fatalf("nil invalidator: %+v after %d calls", got, s.calls)
	}
}

func TestPlatformKeyRereadsARotatedKey(t *testing.T) {
	mem := secrets.NewMemory(map[string]string{"mcm-key": " old-key\n"})
	key, invalidate := PlatformKey(secrets.NewCached(mem, time.Hour), "mcm-key")
	ctx := context.Background()
	if k, err := key(ctx); err != nil || k != "old-key" {
		t.Fatalf("first read: %q, %v", k, err)
	}
	mem.Set("mcm-key", "new-key")
	if k, _ := key(ctx); k != "old-key" {
		t.Fatalf("cached read before the invalidation: %q", k)
	}
	invalidate()
	if k, err := key(ctx); err != nil || k != "new-key" {
		t.Fatalf("after the invalidation: %q, %v", k, err)
	}
	// An uncached source has nothing to forget.
	key, invalidate = PlatformKey(mem, "mcm-key")
	invalidate()
	if k, _ := key(ctx); k != "new-key" {
		t.Fatalf("uncached: %q", k)
	}
	if _, err := func() (string, error) { k, _ := PlatformKey(mem, "missing"); return k(ctx) }(); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("missing secret: %v", err)
	}
}

func TestDeadLetterAttributes(t *testing.T) {
	at := time.Date(2026, 11, 22, 21, 0, 0, 0, time.FixedZone("KST", 9*3600))
	orig := map[string]string{queue.AttrEventType: "PAGE_VIEW", queue.AttrSource: "web", AttrDLAttempts: "3"}
	dl := DeadLetter{Class: ClassRetryable, Status: 503, Reason: "unavailable", Attempts: 4, At: at}
	got := dl.Attributes(orig, "evt-1")
	want := map[string]string{queue.AttrEventType: "PAGE_VIEW", queue.AttrSource: "web", queue.AttrEventID: "evt-1",
		"dl_class": "retryable", "dl_status": "503", "dl_reason": "unavailable", "dl_attempts": "4", "dl_at": "2026-11-22T12:00:00Z"}
	if len(got) != len(want) {
		t.Fatalf("attributes %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if orig[AttrDLAttempts] != "3" || len(orig) != 3 {
		t.Fatalf("the original attributes changed: %v", orig)
	}

	// No id: none is written; a long reason with bytes a queue refuses is
	// cut and cleaned.
	long := strings.Repeat("é", 400) + "\x00"
	got = DeadLetter{Class: ClassUndecodable, Reason: long}.Attributes(nil, "")
	if _, ok := got[queue.AttrEventID]; ok {
		t.Fatalf("an event id without one: %v", got)
	}
	if r := got[AttrDLReason]; len(r) > MaxReason || strings.ContainsRune(r, 0) || !strings.HasPrefix(r, "éé") {
		t.Fatalf("reason of %d bytes: %q", len(r), r)
	}
	if got[AttrDLStatus] != "0" || got[AttrDLClass] != "undecodable" {
		t.Fatalf("undecodable: %v", got)
	}
}
