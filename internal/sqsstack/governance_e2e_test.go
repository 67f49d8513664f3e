package sqsstack

import (
	"context"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/functions/erase"
	"eventrelay.dev/eventrelay/internal/dynalite"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/setup"
	"eventrelay.dev/eventrelay/shared/catalog/dynamocatalog"
	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/dynamoledger"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/pii"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/settings"
)

const (
	govEraseKey   = "sqsstack-erase-key-local-only-0123"
	govDFINERYKey = "0b5e8c2a-4f1d-4a7e-8c3b-9d2e6f1a7b40"
)

// The proof on the SQS path, with the ledger and the catalog on
// DynamoDB (dynalite): catalog prices reach the stand-in; after U is
// erased verify answers not_found, backfill drops U's dead letter unsent,
// the forwarder drops U's queued event unsent, and ingest refuses U's new
// events; an event without consent is refused.
func TestGovernanceEndToEndOnSQS(t *testing.T) {
	endpoint := dynalite.Start(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
	db := dynalite.Client(endpoint)
	ledgerTable := dynalite.NewTable(t, db, dynamoledger.CreateTable)
	catalogTable := dynalite.NewTable(t, db, dynamocatalog.CreateTable)
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(catalogTable), Item: map[string]types.AttributeValue{
		"item_id": s(e2e.CatalogItem), "price": &types.AttributeValueMemberN{Value: "9.5"}, "currency": s("USD"),
		"item_group_id": s("shoes"), "seller_id": s("seller-7")}}); err != nil {
		t.Fatal(err)
	}
	st := Start(t, Config{
		Secrets: map[string]string{"eventrelay/erase-keys": govEraseKey, "eventrelay/dfinery": `["` + govDFINERYKey + `"]`},
		Env: map[string]string{"FORWARDER_MAX_ATTEMPTS": "2", "FORWARDER_FIRST_BACKOFF": "10ms", "FORWARDER_MAX_BACKOFF": "20ms",
			"FORWARDER_BREAKER_THRESHOLD": "10000",
			"LEDGER_BACKEND":              "dynamodb", "LEDGER_DYNAMODB_TABLE": ledgerTable,
			"CATALOG_BACKEND": "dynamodb", "CATALOG_DYNAMODB_TABLE": catalogTable,
			"ERASE_KEYS_SECRET": "eventrelay/erase-keys", "DFINERY_KEYS_SECRET": "eventrelay/dfinery",
			// The steps are seconds apart, inside the default 30 s cache.
			"SUPPRESSION_CACHE": "0s"}})
	quiet := setup.Options{Logger: slog.New(slog.DiscardHandler)}
	verifyFn, err := setup.Verify(context.Background(), settings.FromMap(st.Env), quiet)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, verifyFn)
	verifySrv := httptest.NewServer(verifyFn.Handler)
	t.Cleanup(verifySrv.Close)
	bfEnv := map[string]string{"BACKFILL_QUEUE_URL": st.DeadLetterURL, "BACKFILL_TIME_BUDGET": "2s", "BACKFILL_RATE": "200"}
	for k, v := range st.Env {
		bfEnv[k] = v
	}
	bf, err := setup.NewBackfill(context.Background(), settings.FromMap(bfEnv), quiet)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, bf)
	runBackfill := func(p backfill.Params) backfill.Summary {
		t.Helper()
		s, err := bf.Core.Run(context.Background(), p)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		return s
	}

	const user, device = "u-gov@example.com", "dev-gov"
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	callback := func() (int, string) {
		param, _ := json.Marshal(map[string]any{"abx:order_id": "sqs-gov-p1", "abx:order_sales": 19, "abx:currency": "USD"})
		body := url.Values{"user_id": {user}, "event_name": {"abx:purchase"}, "event_timestamp": {strconv.FormatInt(at.UnixMilli(), 10)},
			"param_json": {string(param)}}.Encode()
		req, _ := http.NewRequest(http.MethodPost, verifySrv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(dfinery.HeaderHash, dfinery.Hash([]byte(govDFINERYKey), []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct{ Result, Reason string }
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Error(err)
		}
		return resp.StatusCode, v.Result + v.Reason
	}

	if status, resp := postIngest(t, st, e2e.BarePurchase("sqs-gov-p1", user, device, at)); status != http.StatusAccepted {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	waitFor(t, "sqs-gov-p1 at the stand-in", 15*time.Second, func() bool { return st.Sink.CountByID()["sqs-gov-p1"] == 1 })
	e2e.CheckCatalogPrices(t, st.Sink, "sqs-gov-p1")
	if status, got := callback(); status != 200 || got != "success" {
		t.Fatalf("callback before erasure: %d %s", status, got)
	}

	st.Sink.SetFaults(mcmsink.Faults{Down: true})
	if status, resp := postIngest(t, st, e2e.BarePurchase("sqs-gov-p2", user, device, at)); status != http.StatusAccepted {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	waitFor(t, "sqs-gov-p2 dead-lettered", 30*time.Second, func() bool { return runBackfill(backfill.Params{DryRun: true}).Scanned == 1 })
	st.Sink.SetFaults(mcmsink.Faults{})

	if status, _ := e2e.Erase(t, st.IngestURL, "wrong-erase-key-0123456789", erase.Request{UserID: user}); status != http.StatusForbidden {
		t.Fatalf("erase with a wrong key: %d", status)
	}
	status, removed := e2e.Erase(t, st.IngestURL, govEraseKey, erase.Request{UserID: user})
	if status != http.StatusOK || removed.Removed != (ledger.Erased{Entries: 2, Claims: 1, Verdicts: 1}) {
		t.Fatalf("erase: %d %+v", status, removed)
	}
	if status, got := callback(); status != 422 || got != "failurenot_found" {
		t.Fatalf("callback after erasure: %d %s", status, got)
	}
	if s := runBackfill(backfill.Params{}); s.Erased != 1 || s.Resent != 0 {
		t.Fatalf("backfill: %+v", s)
	}
	if s := runBackfill(backfill.Params{DryRun: true}); s.Scanned != 0 {
		t.Fatalf("the erased dead letter is still parked: %+v", s)
	}

	// U's event already on the queue, as ingest publishes it.
	anon, err := pii.New([]byte(PIISalt), settings.PIIHashFields.Default, pii.IPKeep)
	if err != nil {
		t.Fatal(err)
	}
	queued, _ := json.Marshal(map[string]any{"id": "sqs-gov-p4", "event_type": "HOME", "timestamp": at.UnixMilli(),
		"channel_type": "SITE", "user_id": anon.Hash(user)})
	deleted := st.Poller.Stats().Deleted
	if _, err := st.Client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(st.EventsURL),
		MessageBody: aws.String(string(queued)), MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			queue.AttrEventID: {DataType: aws.String("String"), StringValue: aws.String("sqs-gov-p4")}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the forwarder to acknowledge sqs-gov-p4", 15*time.Second, func() bool { return st.Poller.Stats().Deleted > deleted })

	noConsent := e2e.BarePurchase("sqs-gov-p5", "someone-else@example.com", "dev-other", at)
	noConsent["consent"] = false
	status, answer := postIngest(t, st, []any{e2e.BarePurchase("sqs-gov-p3", user, device, at), noConsent})
	if got := e2e.Refusals(answer); status != http.StatusAccepted || got["sqs-gov-p3"] != "erased" || got["sqs-gov-p5"] != "no_consent" {
		t.Fatalf("ingest after erasure: %d %v", status, answer)
	}
	time.Sleep(300 * time.Millisecond) // anything wrongly queued would have arrived by now
	for _, id := range []string{"sqs-gov-p2", "sqs-gov-p3", "sqs-gov-p4", "sqs-gov-p5"} {
		if n := st.Sink.CountByID()[id]; n != 0 {
			t.Errorf("%s reached the platform %d times", id, n)
		}
	}
}
