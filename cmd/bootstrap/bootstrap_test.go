package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"eventrelay.dev/eventrelay/internal/lambdaharness"
	"eventrelay.dev/eventrelay/internal/packaging"
	"eventrelay.dev/eventrelay/internal/sqsstack"
	"eventrelay.dev/eventrelay/shared/queue"
)

// TestBootstrapOnTheRuntimeAPI builds the bootstrap as `make dist` does
// (linux, CGO off, lambda.norpc; the host's architecture so it can run here)
// and runs it through the Lambda Runtime API against the local AWS stack.
func TestBootstrapOnTheRuntimeAPI(t *testing.T) {
	bin := fromLambdaZip(t, lambdaharness.Bootstrap(t))
	t.Run("forwarder SQS batch", func(t *testing.T) { testForwarder(t, bin) })
	t.Run("ingest Function URL", func(t *testing.T) { testIngest(t, bin) })
	t.Run("start failure", func(t *testing.T) { testStartFailure(t, bin) })
}

// fromLambdaZip zips binary as `make dist` does (WriteLambdaZip) and
// returns the bootstrap unpacked from that zip, so what runs is what deploys.
func fromLambdaZip(t *testing.T, binary string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := packaging.WriteLambdaZip(binary, &buf); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm()&0o111 == 0 {
		t.Fatalf("lambda zip: want one executable named bootstrap, got %v", zr.File)
	}
	r, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, r)
	out := filepath.Join(t.TempDir(), "bootstrap")
	f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY, zr.File[0].Mode().Perm())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func start(t *testing.T, bin string, env []string) *lambdaharness.Runtime {
	t.Helper()
	rt, err := lambdaharness.Start(bin, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rt.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("bootstrap output:\n%s", rt.Output())
		}
	})
	return rt
}

func invoke(t *testing.T, rt *lambdaharness.Runtime, payload []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := rt.Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("invocation error: %s", res.Payload)
	}
	return res.Payload
}

func sendMessage(t *testing.T, st *sqsstack.Stack, id, body string) string {
	t.Helper()
	out, err := st.Client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(st.EventsURL),
		MessageBody: aws.String(body), MessageAttributes: map[string]types.MessageAttributeValue{
			queue.AttrEventID: {DataType: aws.String("String"), StringValue: aws.String(id)}}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

func queueCounts(t *testing.T, st *sqsstack.Stack, url string) (total, hidden string) {
	t.Helper()
	out, err := st.Client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"]
}

// One batch of three: delivered, rejected by the platform (dead-lettered,
// so not a failure), and refused with a 503 (the one batch item failure,
// kept on the queue with its visibility pushed back by the forwarder).
func testForwarder(t *testing.T, bin string) {
	st := sqsstack.Start(t, sqsstack.Config{NoPoller: true})
	// The stand-in, except that one event id always meets a 503.
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"id":"lam-retry"`) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"code":14,"message":"service unavailable"}`)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		st.Sink.ServeHTTP(w, r)
	}))
	t.Cleanup(platform.Close)
	st.Env["MCM_BASE_URL"] = platform.URL
	rt := start(t, bin, st.LambdaEnv("forwarder"))

	at := time.Now().Add(-time.Minute).UnixMilli()
	ids := map[string]string{} // message id → event id
	for _, c := range []struct{ id, body string }{
		{"lam-good", fmt.Sprintf(`{"id":"lam-good","event_type":"PAGE_VIEW","page_id":"home","timestamp":%d,"channel_type":"SITE","user_id":"u-1"}`, at)},
		{"lam-bad", fmt.Sprintf(`{"id":"lam-bad","event_type":"SEARCH","timestamp":%d,"channel_type":"SITE","user_id":"u-2"}`, at)},
		{"lam-retry", fmt.Sprintf(`{"id":"lam-retry","event_type":"PAGE_VIEW","page_id":"home","timestamp":%d,"channel_type":"SITE","user_id":"u-3"}`, at)},
	} {
		ids[sendMessage(t, st, c.id, c.body)] = c.id
	}
	// The poller builds the SQSEvent as Lambda does; the bootstrap answers
	// over the Runtime API and the poller settles the batch from that.
	var failures []string
	seen := 0
	p := &sqsstack.Poller{Client: st.Client, QueueURL: st.EventsURL, QueueARN: st.EventsARN,
		Handler: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			payload, _ := json.Marshal(ev)
			raw := invoke(t, rt, payload)
			var resp events.SQSEventResponse
			if err := json.Unmarshal(raw, &resp); err != nil {
				return resp, fmt.Errorf("response %s: %w", raw, err)
			}
			for _, f := range resp.BatchItemFailures {
				failures = append(failures, ids[f.ItemIdentifier])
			}
			seen += len(ev.Records)
			return resp, nil
		}}
	deadline := time.Now().Add(15 * time.Second)
	for seen < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("received %d of 3 messages", seen)
		}
		if _, err := p.PollOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(failures) != 1 || failures[0] != "lam-retry" {
		t.Fatalf("batchItemFailures named %v, want [lam-retry]", failures)
	}
	if n := st.Sink.CountByID()["lam-good"]; n != 1 || st.Sink.Stats().Rejected4xx != 1 {
		t.Fatalf("stand-in: lam-good delivered %d times, %d rejections", n, st.Sink.Stats().Rejected4xx)
	}
	dls, err := st.TakeDeadLetters(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 || dls[0].Attributes[queue.AttrEventID] != "lam-bad" || dls[0].Attributes["dl_status"] != "400" {
		t.Fatalf("dead letters %v", dls)
	}
	// Only lam-retry is left, hidden for the forwarder's backoff (5 s).
	// (goaws counts in-flight messages in ApproximateNumberOfMessages too,
	// so "nothing visible" is checked by receiving.)
	if _, hidden := queueCounts(t, st, st.EventsURL); hidden != "1" {
		t.Fatalf("events queue: %s hidden, want 1 (lam-retry)", hidden)
	}
	out, err := st.Client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(st.EventsURL), WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 0 {
		t.Fatalf("events queue still delivers %d messages (%v)", len(out.Messages), err)
	}
}

// A Function URL request (payload format 2.0), as AWS documents it.
const functionURLEvent = `{
  "version": "2.0",
  "routeKey": "$default",
  "rawPath": "/",
  "rawQueryString": "",
  "headers": {"content-type": "application/json", "x-api-key": %q, "host": "abc.lambda-url.us-east-1.on.aws",
              "x-forwarded-for": "198.51.100.7", "x-forwarded-proto": "https"},
  "requestContext": {
    "accountId": "anonymous", "apiId": "abc", "domainName": "abc.lambda-url.us-east-1.on.aws", "domainPrefix": "abc",
    "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "test"},
    "requestId": "req-1", "routeKey": "$default", "stage": "$default", "time": "23/Nov/2026:10:00:00 +0000", "timeEpoch": %d
  },
  "body": %q,
  "isBase64Encoded": false
}`

func testIngest(t *testing.T, bin string) {
	st := sqsstack.Start(t, sqsstack.Config{NoPoller: true})
	rt := start(t, bin, st.LambdaEnv("ingest"))
	body := fmt.Sprintf(`[{"id":"lam-ingest-1","event_type":"SEARCH","search_query":"shoes","timestamp":%d,"channel_type":"SITE","user_id":"x@example.com"},{"event_type":"SEARCH","timestamp":%d,"channel_type":"SITE","user_id":"y"}]`,
		time.Now().Add(-time.Minute).UnixMilli(), time.Now().UnixMilli())
	raw := invoke(t, rt, fmt.Appendf(nil, functionURLEvent, sqsstack.APIKey, time.Now().UnixMilli(), body))
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatalf("response %s: %v", raw, err)
	}
	var answer struct {
		Accepted []struct{ ID string } `json:"accepted"`
		Rejected []struct {
			Index  int `json:"index"`
			Errors []struct{ Field string }
		} `json:"rejected"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &answer); err != nil || resp.StatusCode != http.StatusAccepted ||
		len(answer.Accepted) != 1 || answer.Accepted[0].ID != "lam-ingest-1" ||
		len(answer.Rejected) != 1 || answer.Rejected[0].Index != 1 || len(answer.Rejected[0].Errors) == 0 ||
		answer.Rejected[0].Errors[0].Field != "search_query" {
		t.Fatalf("ingest answered %d %s", resp.StatusCode, resp.Body)
	}
	if st.Secrets.Calls(sqsstack.SecretAPIKeys) == 0 {
		t.Fatal("the API keys were not read from Secrets Manager")
	}
	out, err := st.Client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(st.EventsURL),
		MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].MessageAttributes[queue.AttrEventID].StringValue) != "lam-ingest-1" ||
		strings.Contains(aws.ToString(out.Messages[0].Body), "x@example.com") {
		t.Fatalf("events queue holds %d messages: %+v", len(out.Messages), out.Messages)
	}
}

// A missing setting stops the start: a non-zero exit and one line naming it.
func testStartFailure(t *testing.T, bin string) {
	st := sqsstack.Start(t, sqsstack.Config{NoPoller: true})
	var env []string
	for _, kv := range st.LambdaEnv("ingest") {
		if !strings.HasPrefix(kv, "SQS_QUEUE_URL=") {
			env = append(env, kv)
		}
	}
	rt := start(t, bin, env)
	err := rt.WaitExit(20 * time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("bootstrap without SQS_QUEUE_URL: %v", err)
	}
	// An invocation after the exit reports it at once (the harness tells
	// every waiter, not just the first).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := rt.Invoke(ctx, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("invoke after the exit: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(rt.Output()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "SQS_QUEUE_URL") {
		t.Fatalf("output %q: want one line naming SQS_QUEUE_URL", rt.Output())
	}
}
