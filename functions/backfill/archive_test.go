package backfill

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/suppress"
)

// archived is one event as ingest queued it: its body and attributes.
type archived struct {
	id, typ, source, user string
	at                    time.Time
}

func (a archived) record(n int) archive.Record {
	b := fmt.Sprintf(`{"id":%q,"event_type":%q,"timestamp":%d,"channel_type":"SITE","user_id":%q,"page_id":"p"}`,
		a.id, a.typ, a.at.UnixMilli(), a.user)
	return archive.Record{Subscription: "projects/acme-events/subscriptions/eventrelay-archive", MessageID: fmt.Sprintf("m-%d", n),
		PublishTime: a.at.Add(time.Second), Data: []byte(b),
		Attributes: map[string]string{queue.AttrSource: a.source, queue.AttrEventID: a.id, queue.AttrEventType: a.typ}}
}

// window is [t0-90m, t0-30m): the lost two hours of the issue, shortened.
var (
	winFrom = t0.Add(-90 * time.Minute)
	winTo   = t0.Add(-30 * time.Minute)
)

// archiveRig writes three files: before the window, inside it (with an
// erased person's event, another source's, another type, and the same
// event archived twice), and after it.
func archiveRig(t *testing.T, cfg Config) (*rig, archive.Dir, *ledger.Memory, []string) {
	t.Helper()
	r := newRig(t, cfg)
	dir := archive.Dir{Root: t.TempDir()}
	var want []string
	n := 0
	write := func(start time.Time, evs ...archived) {
		var recs []archive.Record
		for _, e := range evs {
			n++
			recs = append(recs, e.record(n))
		}
		if _, err := dir.Write(start, recs); err != nil {
			t.Fatal(err)
		}
	}
	write(winFrom.Add(-5*time.Minute), archived{"early", "PAGE_VIEW", "shop-web", "u-1", winFrom.Add(-time.Minute)},
		archived{"edge", "PAGE_VIEW", "shop-web", "u-1", winFrom}) // From is inclusive
	want = append(want, "edge")
	var in []archived
	for i := range 12 {
		id := fmt.Sprintf("in-%02d", i)
		in = append(in, archived{id, "PAGE_VIEW", "shop-web", "u-1", winFrom.Add(time.Duration(i) * time.Minute)})
		want = append(want, id)
	}
	in = append(in, archived{"gone", "PAGE_VIEW", "shop-web", "u-erased", winFrom.Add(time.Minute)},
		archived{"app-1", "PAGE_VIEW", "app", "u-1", winFrom.Add(time.Minute)},
		archived{"buy-1", "PURCHASE", "shop-web", "u-1", winFrom.Add(time.Minute)},
		in[3]) // archived twice (at least once)
	write(winFrom.Add(time.Minute), in...)
	write(winTo.Add(-time.Minute), archived{"late", "PAGE_VIEW", "shop-web", "u-1", winTo.Add(-2 * time.Minute)},
		archived{"after", "PAGE_VIEW", "shop-web", "u-1", winTo})
	want = append(want, "late")
	store := ledger.NewMemory(func() time.Time { return t0 })
	if _, err := store.Erase(context.Background(), nil, []string{suppress.Key("u-erased")}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.b.d.Erased = suppress.NewChecker(store, 0, nil)
	r.b.d.Archive = dir
	r.b.d.Cursors = store
	return r, dir, store, want
}

func windowParams() Params {
	return Params{Archive: true, From: winFrom.Format(time.RFC3339), To: winTo.Format(time.RFC3339),
		EventTypes: List{"page_view"}, Sources: List{"shop-web"}}
}

func TestArchiveReplaySendsTheWindowOnceWithOriginalBodies(t *testing.T) {
	r, dir, _, want := archiveRig(t, Config{Batch: 5})
	s, err := r.b.Run(context.Background(), windowParams())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(slices.Sorted(slices.Values(r.sender.sent)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("sent %v, want %v", r.sender.sent, want)
	}
	if s.Resent != len(want) || s.Erased != 1 || s.Duplicates != 1 || s.StopReason != StopDrained || s.MoreRemaining ||
		s.Archive == nil || s.Archive.Files != 3 || s.Archive.FilesDone != 3 {
		t.Fatalf("summary %+v %+v", s, s.Archive)
	}
	// Byte for byte: the same id and original timestamp reach the platform.
	bodies := map[string]string{}
	for _, f := range must(dir.Files(context.Background(), winFrom.Add(-time.Hour), winTo.Add(time.Hour))) {
		rc := must(dir.Open(context.Background(), f.Name))
		err := archive.Decode(rc, func(rec archive.Record) error {
			bodies[rec.Attributes[queue.AttrEventID]] = string(rec.Data)
			return nil
		})
		if err := errors.Join(err, rc.Close()); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range r.sender.bodies {
		_, id, _ := forwarder.Decode(forwarder.Delivery{Body: []byte(b)})
		if bodies[id] != b {
			t.Fatalf("sent %s, archived %s", b, bodies[id])
		}
	}
	// Done: the same request again sends nothing.
	again, err := r.b.Run(context.Background(), windowParams())
	if err != nil || again.Resent != 0 || !again.Archive.Resumed || again.StopReason != StopDrained {
		t.Fatalf("second run %+v %+v, %v", again, again.Archive, err)
	}
	// restart sends the window again (the platform de-duplicates by id).
	p := windowParams()
	p.Restart = true
	if s, err := r.b.Run(context.Background(), p); err != nil || s.Resent != len(want) {
		t.Fatalf("restart %+v, %v", s, err)
	}
}

func TestArchiveReplayResumesWhereItStopped(t *testing.T) {
	r, _, _, want := archiveRig(t, Config{Batch: 4})
	var runs int
	for runs = 1; runs < 20; runs++ {
		p := windowParams()
		p.MaxEvents = 3
		s, err := r.b.Run(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if !s.MoreRemaining {
			break
		}
		if s.StopReason != StopMaxEvents || s.Resent != 3 {
			t.Fatalf("run %d: %+v", runs, s)
		}
	}
	// Every event, and no record twice: no run re-sent what an earlier run
	// sent. The one event the archive holds twice may be sent twice when
	// its copies fall in different runs (the platform de-duplicates by id).
	sent := slices.Compact(slices.Sorted(slices.Values(r.sender.sent)))
	if !slices.Equal(sent, slices.Sorted(slices.Values(want))) || len(r.sender.sent) > len(want)+1 {
		t.Fatalf("after %d runs sent %v, want %v", runs, r.sender.sent, want)
	}
}

func TestArchiveDryRunCountsAndChangesNothing(t *testing.T) {
	r, _, store, want := archiveRig(t, Config{})
	p := windowParams()
	p.DryRun = true
	s, err := r.b.Run(context.Background(), p)
	if err != nil || len(r.sender.sent) != 0 || s.Selected != len(want) || s.Erased != 1 || s.Resent != 0 {
		t.Fatalf("dry run %+v, sent %v, %v", s, r.sender.sent, err)
	}
	if c, _ := store.Cursor(context.Background(), p.cursorKey(must(p.selection()))); c != "" {
		t.Fatalf("a dry run saved a cursor %q", c)
	}
}

func TestArchiveStillFailingIsParkedAsADeadLetter(t *testing.T) {
	r, _, _, want := archiveRig(t, Config{})
	r.sender.answer = func(id string) mcm.Result {
		if id == "in-05" {
			return mcm.Result{Status: 400, Class: mcm.Permanent}
		}
		return mcm.Result{Status: 200, Class: mcm.Delivered}
	}
	s, err := r.b.Run(context.Background(), windowParams())
	if err != nil || s.Resent != len(want)-1 || s.StillFailing[delivery.ClassPermanent] != 1 {
		t.Fatalf("%+v, %v", s, err)
	}
	parked := r.q.contents(t)
	if len(parked) != 1 {
		t.Fatalf("parked %v", parked)
	}
	for _, it := range parked {
		if it.Attributes[queue.AttrEventID] != "in-05" || it.Attributes[delivery.AttrDLClass] != delivery.ClassPermanent ||
			it.Attributes[queue.AttrSource] != "shop-web" {
			t.Fatalf("parked %+v", it.Attributes)
		}
	}
}

func TestArchiveRateCap(t *testing.T) {
	r, _, _, want := archiveRig(t, Config{Rate: 100})
	p := windowParams()
	p.Rate = 4
	if _, err := r.b.Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	// 4/s with a burst of one: n sends take at least (n-1)/4 s.
	if took := r.sender.at[len(r.sender.at)-1].Sub(r.sender.at[0]); took < time.Duration(len(want)-1)*250*time.Millisecond {
		t.Fatalf("%d sends in %s", len(want), took)
	}
}

type brokenSuppressions struct{}

func (brokenSuppressions) ErasedOne(context.Context, *event.Event) (bool, error) {
	return false, errors.New("firestore unavailable")
}

func TestArchiveReplayStopsWhenTheErasureListIsUnreadable(t *testing.T) {
	r, _, _, _ := archiveRig(t, Config{})
	r.b.d.Erased = brokenSuppressions{}
	s, err := r.b.Run(context.Background(), windowParams())
	if err == nil || s.StopReason != StopErasureUnavailable || len(r.sender.sent) != 0 || !s.MoreRemaining {
		t.Fatalf("%+v, sent %v, %v", s, r.sender.sent, err)
	}
}

func TestArchiveParams(t *testing.T) {
	r, _, _, _ := archiveRig(t, Config{})
	for _, p := range []Params{
		{Archive: true, From: winFrom.Format(time.RFC3339)},
		{Archive: true, From: winFrom.Format(time.RFC3339), To: winTo.Format(time.RFC3339), Reasons: List{"auth"}},
		{Archive: true, From: winTo.Format(time.RFC3339), To: winFrom.Format(time.RFC3339)},
		{Restart: true},
	} {
		if _, err := r.b.Run(context.Background(), p); !errors.Is(err, ErrBadParams) {
			t.Errorf("%+v: %v", p, err)
		}
	}
	r.b.d.Archive = nil
	if _, err := r.b.Run(context.Background(), windowParams()); err == nil || !strings.Contains(err.Error(), "BACKFILL_ARCHIVE") {
		t.Fatalf("no archive: %v", err)
	}
	q, err := ParseQuery(map[string][]string{"archive": {"true"}, "sources": {"a,b"}, "restart": {"1"}})
	if err != nil || !q.Archive || !q.Restart || !slices.Equal(q.Sources, []string{"a", "b"}) {
		t.Fatalf("query %+v, %v", q, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// An archive replay over HTTP, query and body, validated against the
// contract: its parameters and its summary (with the archive progress).
func TestArchiveReplayOverHTTP(t *testing.T) {
	r, _, _, want := archiveRig(t, Config{})
	h := apicontract.Wrap(t, apicontract.Backfill, r.b.Handler())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, runRequest("/?archive=true&sources=shop-web&from="+winFrom.Format(time.RFC3339)+"&to="+winTo.Format(time.RFC3339),
		`{"event_types":"PAGE_VIEW","dry_run":true}`))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), fmt.Sprintf(`"selected":%d`, len(want))) ||
		!strings.Contains(rec.Body.String(), `"files":3`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, runRequest("/", `{"archive":true,"from":"`+winFrom.Format(time.RFC3339)+`"}`))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "archive needs from and to") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
