package sqsstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/functions/erase"
	"eventrelay.dev/eventrelay/internal/dynalite"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/setup"
	"eventrelay.dev/eventrelay/internal/testclose"
	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/ledger/dynamoledger"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/settings"
)

// The proof on AWS, against moto_server: ingest publishes 1,000
// events to the SNS events topic (not 10,000: moto_server 5.2.1's SNS took
// 20 s for 1,000 publishes with one subscription and 98 s with two, at a
// load of 10); the topic delivers them to the events
// queue (raw delivery) and the forwarder to the platform stand-in, which
// loses a window of them (answers 200 and drops); the topic's envelopes go
// to the archive bucket as the Firehose stream writes them (see Firehose:
// moto has no SNS→Firehose delivery); backfill, started from its settings
// with BACKFILL_ARCHIVE=s3://…, replays the window: every lost event
// reaches the platform once more with its original id and timestamp, the
// erased person's excepted, nothing outside the window is sent again, and
// the same request again sends nothing.
func TestArchiveReplayFillsALostWindowOnAWS(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: 1,000 events through SNS, SQS and S3 on moto (-short)")
	}
	started := time.Now()
	dbEndpoint := dynalite.Start(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", dbEndpoint)
	db := dynalite.Client(dbEndpoint)
	ledgerTable := dynalite.NewTable(t, db, dynamoledger.CreateTable)
	const eraseKey = "sqsstack-archive-erase-key-local-0123"
	st := Start(t, Config{Server: ServerMoto, Archive: true,
		Secrets: map[string]string{"eventrelay/erase-keys": eraseKey},
		Env: map[string]string{"LEDGER_BACKEND": "dynamodb", "LEDGER_DYNAMODB_TABLE": ledgerTable,
			"ERASE_KEYS_SECRET": "eventrelay/erase-keys", "SUPPRESSION_CACHE": "0s"}})

	now := time.Now().Truncate(time.Millisecond)
	before, lost, after := now.Add(-30*time.Minute), now.Add(-20*time.Minute), now.Add(-10*time.Minute)
	send := func(prefix string, n int, at time.Time) []map[string]any {
		evs := e2e.Events(prefix, "android", n, at)
		for i := 0; i < n; i += 1000 {
			if status, resp := postIngest(t, st, evs[i:min(i+1000, n)]); status != http.StatusAccepted {
				na, _ := resp["not_accepted"].([]any)
				t.Fatalf("ingest %s: %d, %d not accepted, the first: %.200v", prefix, status, len(na), na)
			}
		}
		return evs
	}
	send("before", 300, before)
	waitFor(t, "the first 300 delivered", 120*time.Second, func() bool { return st.Sink.Stats().Accepted >= 300 })
	st.Sink.SetFaults(mcmsink.Faults{Lose: true})
	gone := send("lost", 400, lost)
	waitFor(t, "400 answered 200 and dropped", 120*time.Second, func() bool { return st.Sink.Stats().Lost >= 400 })
	st.Sink.SetFaults(mcmsink.Faults{})
	send("after", 300, after)
	waitFor(t, "the last 300 delivered", 120*time.Second, func() bool { return st.Sink.Stats().Accepted >= 600 })
	sent := time.Since(started)

	// A person of the lost window asks for erasure before the replay.
	erased := "user-7@example.com"
	if status, _ := e2e.Erase(t, st.IngestURL, eraseKey, erase.Request{UserID: erased}); status != http.StatusOK {
		t.Fatalf("erase: %d", status)
	}
	keys, err := st.Firehose.Drain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	archived := checkArchive(t, st, keys)
	if archived != 1000 {
		t.Fatalf("the archive holds %d records, want the 1,000 ingest published", archived)
	}

	quiet := setup.Options{Logger: slog.New(slog.DiscardHandler)}
	bfEnv := map[string]string{"BACKFILL_QUEUE_URL": st.DeadLetterURL, "BACKFILL_ARCHIVE": "s3://" + ArchiveBucket,
		"BACKFILL_TIME_BUDGET": "120s", "BACKFILL_RATE": "5000", "BACKFILL_BATCH": "500"}
	for k, v := range st.Env {
		bfEnv[k] = v
	}
	bf, err := setup.NewBackfill(context.Background(), settings.FromMap(bfEnv), quiet)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, bf)
	params := backfill.Params{Archive: true, From: lost.Format(time.RFC3339Nano), To: lost.Add(time.Millisecond).Format(time.RFC3339Nano)}
	replayStart := time.Now()
	s, err := bf.Core.Run(context.Background(), params)
	if err != nil || s.MoreRemaining || s.Archive == nil {
		t.Fatalf("replay: %v %+v", err, s)
	}
	replayed := time.Since(replayStart)
	if s.Resent != 399 || s.Erased != 1 || s.Selected != 399 {
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
		for i := range 300 {
			if id := fmt.Sprintf("%s-%04d", prefix, i); len(byID[id]) != 1 {
				t.Fatalf("%s delivered %d times: a replay of the window must not resend it", id, len(byID[id]))
			}
		}
	}
	// The same request again: its place was saved; nothing more is sent.
	again, err := bf.Core.Run(context.Background(), params)
	if err != nil || again.Resent != 0 || again.Archive == nil || !again.Archive.Resumed {
		t.Fatalf("second replay: %v %+v", err, again)
	}
	t.Logf("1,000 events published to SNS and forwarded in %s; %d archive objects (%d records) in s3://%s; "+
		"the lost window's %d replayed from it in %s (BACKFILL_RATE 5000), %d erased left out; files listed %d, read %d",
		sent.Round(time.Millisecond), len(keys), archived, ArchiveBucket, s.Resent, replayed.Round(time.Millisecond), s.Erased,
		s.Archive.Files, s.Archive.FilesDone)
}

// checkArchive reads every object back from the bucket and checks each
// record is what ingest published: a body whose id is the event_id
// attribute, and the stack's source. It returns the number of records.
func checkArchive(t *testing.T, st *Stack, keys []string) int {
	t.Helper()
	n := 0
	for _, key := range keys {
		if _, ok := archive.ParseFirehoseName(key); !ok {
			t.Fatalf("%s is not named as the stream names objects", key)
		}
		out, err := st.Firehose.S3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(ArchiveBucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		err = errors.Join(archive.DecodeSNS(out.Body, func(r archive.Record) error {
			var body struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(r.Data, &body); err != nil || body.ID == "" || r.Attributes[queue.AttrEventID] != body.ID ||
				r.Attributes[queue.AttrSource] != Source || r.MessageID == "" || r.PublishTime.IsZero() || r.Subscription != st.TopicARN {
				return fmt.Errorf("record %+v (body %s): not as ingest published it", r, r.Data)
			}
			n++
			return nil
		}), out.Body.Close())
		if err != nil {
			t.Fatal(err)
		}
	}
	return n
}
