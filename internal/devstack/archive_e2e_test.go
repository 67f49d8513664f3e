package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/functions/erase"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/fakegcs"
	"eventrelay.dev/eventrelay/internal/testclose"
	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/archive/gcsarchive"
	"eventrelay.dev/eventrelay/shared/mcmsink"
)

// The proof on the local stack: 10,000 events sent; the platform
// stand-in loses a window of them (answers 200 and drops); the window is
// replayed from the archive the stack wrote; every lost event reaches the
// platform once more with its original id and timestamp, the erased
// person's excepted, and nothing outside the window is sent again. The
// archive is a folder here, as `eventrelay dev` writes it.
func TestArchiveReplayFillsALostWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: 10,000 events through the stack (-short)")
	}
	proveArchiveReplay(t, Config{}, func(st *Stack) archive.Reader { return archive.Dir{Root: st.Archive} })
}

// The same proof with the archive in a Cloud Storage bucket
// (fake-gcs-server, the official client): the stack writes its files
// there, and backfill replays with BACKFILL_ARCHIVE=gs://…, as on GCP.
func TestArchiveReplayFromABucketFillsALostWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: 10,000 events through the stack (-short)")
	}
	gcs := fakegcs.Start(t, "acme-events-archive")
	url := "gs://acme-events-archive/relay"
	proveArchiveReplay(t, Config{ArchiveBucket: url, Env: map[string]string{"STORAGE_EMULATOR_HOST": gcs.Host}},
		func(*Stack) archive.Reader {
			b, err := gcsarchive.New(gcs.Client(t, nil), url)
			if err != nil {
				t.Fatal(err)
			}
			return b
		})
}

// proveArchiveReplay runs the proof on a stack started with cfg; reader
// reads the archive the stack wrote.
func proveArchiveReplay(t *testing.T, cfg Config, reader func(*Stack) archive.Reader) {
	t.Helper()
	started := time.Now()
	cfg.PushMaxBackoff, cfg.ArchiveMaxDuration = 20*time.Millisecond, 300*time.Millisecond
	cfg.Env = maps.Clone(cfg.Env)
	if cfg.Env == nil {
		cfg.Env = map[string]string{}
	}
	maps.Copy(cfg.Env, map[string]string{"BACKFILL_TIME_BUDGET": "120s", "BACKFILL_RATE": "5000", "BACKFILL_BATCH": "500"})
	st, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	now := time.Now().Truncate(time.Millisecond)
	before, lost, after := now.Add(-30*time.Minute), now.Add(-20*time.Minute), now.Add(-10*time.Minute)
	send := func(prefix string, n int, at time.Time) []map[string]any {
		evs := e2e.Events(prefix, "android", n, at)
		for i := 0; i < n; i += 1000 {
			if status, resp := postIngest(t, st, evs[i:min(i+1000, n)]); status != http.StatusAccepted {
				t.Fatalf("ingest %s: %d %v", prefix, status, resp)
			}
		}
		return evs
	}
	send("before", 3000, before)
	waitFor(t, "the first 3,000 delivered", 60*time.Second, func() bool { return st.Sink.Stats().Accepted >= 3000 })
	st.Sink.SetFaults(mcmsink.Faults{Lose: true})
	gone := send("lost", 4000, lost)
	waitFor(t, "4,000 answered 200 and dropped", 60*time.Second, func() bool { return st.Sink.Stats().Lost >= 4000 })
	st.Sink.SetFaults(mcmsink.Faults{})
	send("after", 3000, after)
	waitFor(t, "the last 3,000 delivered", 60*time.Second, func() bool { return st.Sink.Stats().Accepted >= 6000 })
	sent := time.Since(started)

	// A person of the lost window asks for erasure before the replay.
	erased := "user-7@example.com"
	if status, _ := e2e.Erase(t, st.IngestURL, DevEraseKey, erase.Request{UserID: erased}); status != http.StatusOK {
		t.Fatalf("erase: %d", status)
	}
	st.archive.Flush()
	files, err := reader(st).Files(context.Background(), now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil || len(files) == 0 {
		t.Fatalf("archive files %d, %v", len(files), err)
	}

	replayStart := time.Now()
	params := map[string]any{"archive": true, "from": lost.Format(time.RFC3339Nano), "to": lost.Add(time.Millisecond).Format(time.RFC3339Nano)}
	status, s := postBackfill(t, st, params)
	if status != http.StatusOK || s.MoreRemaining || s.Archive == nil {
		t.Fatalf("replay: %d %+v", status, s)
	}
	replayed := time.Since(replayStart)
	if s.Resent != 3999 || s.Erased != 1 || s.Selected != 3999 || s.Archive.Location != st.Archive && s.Archive.Location != st.Archive+"/" {
		t.Fatalf("replay summary %+v %+v", s, s.Archive)
	}

	byID := map[string][]mcmsink.Record{}
	for _, r := range st.Sink.Accepted() {
		byID[r.ID] = append(byID[r.ID], r)
	}
	for i, e := range gone {
		id := e["id"].(string)
		got := byID[id]
		if e["user_id"] == erased {
			if len(got) != 0 {
				t.Fatalf("the erased person's %s was replayed", id)
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("lost event %d (%s) delivered %d times after the replay", i, id, len(got))
		}
		var body struct {
			ID        string `json:"id"`
			Timestamp int64  `json:"timestamp"`
		}
		if err := json.Unmarshal(got[0].Body, &body); err != nil || body.ID != id || body.Timestamp != lost.UnixMilli() {
			t.Fatalf("%s delivered as %s (%v)", id, got[0].Body, err)
		}
	}
	for _, prefix := range []string{"before", "after"} {
		for i := range 3000 {
			if id := fmt.Sprintf("%s-%04d", prefix, i); len(byID[id]) != 1 {
				t.Fatalf("%s delivered %d times: a replay of the window must not resend it", id, len(byID[id]))
			}
		}
	}
	// The same request again: its place was saved; nothing more is sent.
	if status, again := postBackfill(t, st, params); status != http.StatusOK || again.Resent != 0 || !again.Archive.Resumed {
		t.Fatalf("second replay: %d %+v", status, again)
	}
	t.Logf("10,000 events sent and pushed in %s; %d archive files in %s; the lost window's 3,999 replayed in %s (BACKFILL_RATE 5000)",
		sent.Round(time.Millisecond), len(files), s.Archive.Location, replayed.Round(time.Millisecond))
}
