// Package sqsstack runs the AWS path of the pipeline on one machine, for
// tests: goaws as SQS (an events queue whose redrive policy moves a message
// to a dead-letter queue after MaxReceiveCount receives), the local Secrets
// Manager (internal/fakesecrets), the Events API stand-in, ingest with
// QUEUE_BACKEND=sqs on loopback HTTP, and the forwarder driven by a Poller
// as a Lambda SQS event source mapping drives it. Every AWS call goes
// through the real aws-sdk-go-v2 clients, pointed at the local servers by
// AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_SECRETS_MANAGER.
//
// What goaws v0.5.4 does and does not do, as checked by this package's
// tests: it honours RedrivePolicy.maxReceiveCount (a message returned that
// many times moves to the dead-letter queue, whether its visibility expired
// or was set to 0); it reports ApproximateReceiveCount as 1 on every
// receive (the Poller counts receives itself); its
// ApproximateNumberOfMessages counts in-flight messages too; visibility
// expiry is checked once a second.
//
// Config.Server picks the SQS server. goaws is the default: it starts in
// milliseconds and is fast under load. moto (internal/moto) keeps SQS's
// delivery semantics where goaws does not: in TestBackfillOnSQS on goaws (issue 11,
// about 2 runs in 10), after dead letters were released with ChangeMessageVisibility(0) a
// receive loop saw only part of the queue, one message was handed out
// twice within one run (re-parked with two more attempts), and a deleted
// message came back (the last run resent 18 of 16). moto counts
// ApproximateReceiveCount itself (the Poller then reports moto's count,
// which is never below its own), but it moves a message to the dead-letter
// queue only when the events queue is received from again, not when its
// visibility expires. Which test uses which:
//   - moto: functions/backfill/sqssource TestBackfillOnSQS (counts,
//     re-parks and deletes dead letters); TestPollerSettlesLikeAnEventSourceMapping
//     runs on both (the receive count is the poller's on goaws, moto's on
//     moto).
//   - goaws: this package's other tests (TestSQS* pass on both, and start
//     faster on goaws; TestGoaws* checks goaws's own redrive on expiry),
//     internal/soak TestSoakSQSLosesNothing (3,000 events: 18 s on
//     goaws; on moto sending alone took 251 s and the drain ran at about 3
//     events/s, past a 400 s timeout), cmd/bootstrap and internal/setup
//     (NoPoller stacks: no redelivery involved).
//
// Start sets the AWS_* variables in the test's environment (t.Setenv), so a
// test using it must not be parallel.
package sqsstack

import (
	"context"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"eventrelay.dev/eventrelay/functions/forwarder/lambdasqs"
	"eventrelay.dev/eventrelay/internal/fakesecrets"
	"eventrelay.dev/eventrelay/internal/httpserver"
	"eventrelay.dev/eventrelay/internal/setup"
	_ "eventrelay.dev/eventrelay/internal/wiring/aws"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Names and keys of the local stack.
const (
	Region          = "us-east-1"
	AccountID       = "100010001000" // goaws's account
	EventsQueue     = "eventrelay-events"
	DeadLetterQueue = "eventrelay-deadletter"

	SecretAPIKeys = "eventrelay/ingest-api-keys"
	SecretSalt    = "eventrelay/pii-salt"
	SecretMCMKey  = "eventrelay/mcm-api-key"

	// APIKey is accepted by this stack's ingest; it exists only here.
	APIKey     = "sqsstack.local-test-key-not-a-secret"
	Source     = "sqsstack"
	PIISalt    = "local-sqsstack-pii-salt"
	PlatformID = "local-platform"
	MCMAPIKey  = "local-mcm-api-key"
)

// Config tunes the stack. The zero value is a working stack.
type Config struct {
	// Env adds or overrides function settings, e.g. small
	// FORWARDER_FIRST_BACKOFF / FORWARDER_MAX_BACKOFF so retries take
	// milliseconds (SQS visibility is whole seconds: under 0.5 s is 0,
	// visible at once).
	Env map[string]string
	// MaxReceiveCount is the events queue's redrive limit (default 10; keep
	// it above FORWARDER_MAX_ATTEMPTS so the forwarder's reasoned dead
	// letter comes first).
	MaxReceiveCount int
	// VisibilityTimeout is the events queue's default, in whole seconds
	// (default 2): how long a failed batch stays hidden when the handler
	// did not set a visibility itself.
	VisibilityTimeout int
	// Handler replaces the in-process forwarder, e.g. with a bootstrap run
	// through internal/lambdaharness. NoPoller starts no poller at all.
	Handler  Handler
	NoPoller bool
	// Secrets adds secrets (name → value) before the functions start.
	Secrets map[string]string
	// Server is the SQS server: ServerGoaws (the default) or ServerMoto,
	// for tests that need real SQS delivery semantics (see the package
	// doc).
	Server string
	// Archive turns the AWS archive on (moto only): ingest publishes to the
	// events topic (SNS_TOPIC_ARN), which delivers to the events queue
	// with raw message delivery and to the Firehose stand-in's feed; the
	// archive bucket is ArchiveBucket (see Firehose).
	Archive bool
}

// Stack is a running local AWS pipeline.
type Stack struct {
	Endpoint      string      // SQS (goaws or moto) base URL
	Client        *sqs.Client // real SQS client on Endpoint
	EventsURL     string
	EventsARN     string
	DeadLetterURL string
	IngestURL     string
	Sink          *mcmsink.Sink
	SinkURL       string
	Secrets       *fakesecrets.AWS
	// Env is the functions' settings (without the AWS_* variables, which
	// are in the process environment; LambdaEnv has both).
	Env       map[string]string
	Forwarder *setup.Forwarder // nil with Config.Handler or NoPoller
	Poller    *Poller          // nil with NoPoller
	// TopicARN and Firehose: the archive (Config.Archive), else empty.
	TopicARN string
	Firehose *Firehose

	stopPoller func()
}

// Start brings the stack up for the test; everything stops when it ends.
// Without goaws the test is skipped, or fails when
// EVENTRELAY_REQUIRE_EMULATORS=1 (see internal/goaws).
func Start(t testing.TB, cfg Config) *Stack {
	t.Helper()
	if cfg.MaxReceiveCount <= 0 {
		cfg.MaxReceiveCount = 10
	}
	if cfg.VisibilityTimeout <= 0 {
		cfg.VisibilityTimeout = 2
	}
	st := &Stack{}
	st.startQueues(t, cfg)
	if cfg.Archive {
		if cfg.Server != ServerMoto {
			t.Fatal("sqsstack: Config.Archive needs Server: ServerMoto (SNS and S3)")
		}
		st.startArchive(t)
	}

	st.Secrets = fakesecrets.StartAWS()
	t.Cleanup(st.Secrets.Close)
	apiKeys, _ := json.Marshal(auth.APIKeyFile{Keys: []auth.APIKey{auth.HashAPIKey(strings.Split(APIKey, ".")[0], Source,
		strings.SplitN(APIKey, ".", 2)[1], []byte("sqsstack-salt-01"))}})
	st.Secrets.Set(SecretAPIKeys, string(apiKeys))
	st.Secrets.Set(SecretSalt, PIISalt)
	st.Secrets.Set(SecretMCMKey, MCMAPIKey)
	for name, value := range cfg.Secrets {
		st.Secrets.Set(name, value)
	}

	st.Sink = mcmsink.New(mcmsink.Config{PlatformID: PlatformID, APIKey: MCMAPIKey})
	st.SinkURL = serve(t, st.Sink)

	// The SDK's own configuration chain reads these, in this process and
	// in the functions' (LambdaEnv).
	for k, v := range st.awsEnv() {
		t.Setenv(k, v)
	}
	st.Env = map[string]string{
		"QUEUE_BACKEND":          "sqs",
		"SQS_QUEUE_URL":          st.EventsURL,
		"DEADLETTER_QUEUE_URL":   st.DeadLetterURL,
		"SECRETS_BACKEND":        "aws",
		"INGEST_API_KEYS_SECRET": SecretAPIKeys,
		"PII_SALT_SECRET":        SecretSalt,
		"MCM_BASE_URL":           st.SinkURL,
		"MCM_PLATFORM_ID":        PlatformID,
		"MCM_API_KEY_SECRET":     SecretMCMKey,
	}
	if st.TopicARN != "" {
		st.Env["SNS_TOPIC_ARN"] = st.TopicARN
	}
	for k, v := range cfg.Env {
		st.Env[k] = v
	}
	ctx := context.Background()
	opts := setup.Options{Logger: slog.New(slog.DiscardHandler)}
	ingestFn, err := setup.Ingest(ctx, settings.FromMap(st.Env), opts)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	testclose.Cleanup(t, ingestFn)
	st.IngestURL = serve(t, ingestFn.Handler)
	if cfg.NoPoller {
		return st
	}
	handler := cfg.Handler
	if handler == nil {
		fwd, err := setup.NewForwarder(ctx, settings.FromMap(st.Env), opts)
		if err != nil {
			t.Fatalf("forwarder: %v", err)
		}
		testclose.Cleanup(t, fwd)
		st.Forwarder = fwd
		// What cmd/bootstrap hands lambda.Start.
		handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return lambdasqs.Handle(ctx, fwd.Core, ev, fwd.Visibility, fwd.Concurrency)
		}
	}
	st.Poller = &Poller{Client: st.Client, QueueURL: st.EventsURL, QueueARN: st.EventsARN, Handler: handler}
	pctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); st.Poller.Run(pctx) }()
	st.stopPoller = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(st.stopPoller)
	return st
}

// StopPoller stops the forwarder's poller and waits for the invocations in
// flight, so nothing writes to the dead-letter queue any more (a test that
// counts dead letters stops it once the forwarder has settled its events).
func (st *Stack) StopPoller() {
	if st.stopPoller != nil {
		st.stopPoller()
	}
}

// ARN is the ARN goaws gives the named queue (on moto, read
// Stack.EventsARN: moto's account id is its own).
func ARN(queue string) string { return "arn:aws:sqs:" + Region + ":" + AccountID + ":" + queue }

// awsEnv points the SDK at the local servers with throwaway credentials.
func (st *Stack) awsEnv() map[string]string {
	return map[string]string{
		"AWS_REGION":                       Region,
		"AWS_ACCESS_KEY_ID":                "local",
		"AWS_SECRET_ACCESS_KEY":            "local",
		"AWS_SESSION_TOKEN":                "",
		"AWS_PROFILE":                      "",
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_ENDPOINT_URL_SQS":             st.Endpoint,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": st.Secrets.URL,
		// moto serves these too; goaws does not (unused there).
		"AWS_ENDPOINT_URL_SNS": st.Endpoint,
		"AWS_ENDPOINT_URL_S3":  st.Endpoint,
	}
}

// LambdaEnv is the environment of a bootstrap binary running function
// (EVENTRELAY_FUNCTION) on this stack, as KEY=VALUE.
func (st *Stack) LambdaEnv(function string) []string {
	out := []string{"EVENTRELAY_FUNCTION=" + function}
	for k, v := range st.awsEnv() {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	for k, v := range st.Env {
		out = append(out, k+"="+v)
	}
	return out
}

// DeadLetter is one message taken off the dead-letter queue.
type DeadLetter struct {
	MessageID  string
	Body       string
	Attributes map[string]string // message attributes (dl_* and the originals)
}

// TakeDeadLetters receives what is on the dead-letter queue now (up to 10
// per call, waiting at most wait) and deletes what it returns.
func (st *Stack) TakeDeadLetters(ctx context.Context, wait time.Duration) ([]DeadLetter, error) {
	out, err := st.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(st.DeadLetterURL),
		MaxNumberOfMessages: 10, WaitTimeSeconds: int32(wait / time.Second), MessageAttributeNames: []string{"All"}})
	if err != nil {
		return nil, err
	}
	var dls []DeadLetter
	for _, m := range out.Messages {
		attrs := map[string]string{}
		for k, v := range m.MessageAttributes {
			attrs[k] = aws.ToString(v.StringValue)
		}
		dls = append(dls, DeadLetter{MessageID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), Attributes: attrs})
		if _, err := st.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(st.DeadLetterURL),
			ReceiptHandle: m.ReceiptHandle}); err != nil {
			return dls, err
		}
	}
	return dls, nil
}

func createQueue(t testing.TB, c *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	// goaws answers with its own host in the URL; the clients use
	// BaseEndpoint and read only the path, which is what AWS's URLs need.
	return aws.ToString(out.QueueUrl)
}

func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpserver.Serve(ln, h, httpserver.Defaults())
	testclose.Cleanup(t, srv)
	return "http://" + ln.Addr().String()
}
