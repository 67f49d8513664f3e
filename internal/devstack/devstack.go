// Package devstack runs the whole pipeline on one machine: a Pub/Sub
// emulator (pstest, with the events topic's subscription in front of it:
// pubsubFront) served on a local port, in-memory secrets, and the
// functions on loopback HTTP, wired exactly as in the cloud except for the
// backends. `make dev` and the end-to-end tests start it.
package devstack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/internal/fakesecrets"
	"eventrelay.dev/eventrelay/internal/httpserver"
	"eventrelay.dev/eventrelay/internal/setup"
	_ "eventrelay.dev/eventrelay/internal/wiring/gcp" // the local stack is Google Cloud's shape
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Names used on the local stack. They are realistic (6+ character ids), so
// nothing here passes only because the emulator is lenient.
const (
	Project         = "eventrelay-local"
	Topic           = "projects/" + Project + "/topics/eventrelay-events"
	EventsSub       = "projects/" + Project + "/subscriptions/eventrelay-forwarder"
	DeadLetterTopic = "projects/" + Project + "/topics/eventrelay-deadletter"
	DeadLetterSub   = "projects/" + Project + "/subscriptions/eventrelay-deadletter-backfill"
	// Secret names are Secret Manager names, so a function in a process of
	// its own can read them through the real client (SecretServer).
	SecretAPIKeys     = "projects/" + Project + "/secrets/ingest-api-keys"
	SecretSigningKeys = "projects/" + Project + "/secrets/ingest-signing-keys"
	SecretSalt        = "projects/" + Project + "/secrets/pii-salt"
	SecretMCMKey      = "projects/" + Project + "/secrets/mcm-api-key"
	SecretDFINERY     = "projects/" + Project + "/secrets/dfinery-keys"

	// The local Events API stand-in's platform and key.
	PlatformID = "local-platform"
	MCMAPIKey  = "local-mcm-api-key"
	// DevDFINERYKey signs local verification callbacks (UUID text, as
	// DFINERY issues them).
	DevDFINERYKey = "6f1c0b9e-2d4a-4c4e-9f57-3d1c7a9e0b11"

	// DevAPIKey is the well-known key of the local stack only; it is printed
	// at start and in the README. It never exists outside this process.
	DevAPIKey        = "dev.local-development-key-not-a-secret"
	DevSource        = "local-dev"
	DevSigningSecret = "local-development-signing-secret"
)

// MaxDeliveryAttempts is the events subscription's dead-letter policy, as
// the GCP module's max_delivery_attempts default sets it.
const MaxDeliveryAttempts = 10

// DefaultAdminAddr is where `make dev` serves the counters.
const DefaultAdminAddr = "127.0.0.1:8089"

// DefaultBackfillAddr is where `make dev` serves the backfill function (the
// default of `eventrelay backfill -url`).
const DefaultBackfillAddr = "127.0.0.1:8087"

// Config chooses where the stack listens. Empty addresses pick free ports.
type Config struct {
	PubSubAddr    string // e.g. 127.0.0.1:8085
	IngestAddr    string // e.g. 127.0.0.1:8080
	ForwarderAddr string
	VerifyAddr    string
	SinkAddr      string
	AdminAddr     string // the counters endpoint
	BackfillAddr  string
	// MCMBaseURL sends to a real Events API instead of the local stand-in
	// (then MCMPlatformID and MCMAPIKey are yours).
	MCMBaseURL, MCMPlatformID, MCMAPIKey string
	// PushMaxBackoff caps how long a failed push waits before redelivery
	// (the cloud's subscription retry policy allows up to 600 s).
	PushMaxBackoff time.Duration
	Logger         *slog.Logger
	// Env adds or overrides function settings (as the environment would).
	Env map[string]string
	// Progress, when set, is told each step of the start-up as it begins
	// (`make dev` prints them, so a slow start says where it is).
	Progress func(step string)
	// ExternalForwarder, when set, is the URL of a forwarder running in a
	// process of its own (see FunctionEnv): the stack starts none and
	// pushes the events subscription there.
	ExternalForwarder string
	// BackfillEvery runs the backfill with default parameters (retryable
	// dead letters) this often, as the cloud's scheduler does (0: never;
	// `make dev` sets it).
	BackfillEvery time.Duration
	// ArchiveDir is where the archive's files go (the Cloud Storage
	// subscription's stand-in) and what BACKFILL_ARCHIVE names; empty: a
	// temporary folder, removed at Close.
	ArchiveDir string
	// ArchiveBucket, when set (gs://bucket[/prefix]), is where the archive's
	// files go instead of a folder, on the Cloud Storage stand-in that
	// Env's STORAGE_EMULATOR_HOST names; BACKFILL_ARCHIVE names it.
	ArchiveBucket string
	// ArchiveMaxDuration closes an archive file this long after its first
	// message (DefaultArchiveMaxDuration when 0).
	ArchiveMaxDuration time.Duration
}

// Stack is a running local pipeline.
type Stack struct {
	PubSubAddr   string
	IngestURL    string
	ForwarderURL string
	VerifyURL    string
	BackfillURL  string // drains DeadLetterSub
	SinkURL      string // empty when a real endpoint is used
	// CountersURL answers GET with the pipeline's counters (JSON), counted
	// from the functions' log lines plus the stand-in's own.
	CountersURL string
	Counters    *Counters
	Sink        *mcmsink.Sink
	Secrets     *secrets.Memory
	// Ledger is the in-process ledger, nil when LEDGER_BACKEND names an
	// emulator's (LedgerBackend, at LedgerAddr).
	Ledger                    *ledger.Memory
	LedgerBackend, LedgerAddr string
	// SecretServer serves the same secrets over Secret Manager's gRPC API
	// for functions in other processes.
	SecretServer *fakesecrets.GCP
	// Env is the functions' settings on this stack.
	Env map[string]string
	// Archive is where the archive's files are: BACKFILL_ARCHIVE, a
	// folder or a gs:// bucket.
	Archive string
	archive *archiveWriter

	ledgerEnv map[string]string // what localLedger set in the process for the ledger's client
	pubsub    *localPubSub
	client    *pubsub.Client
	servers   []*http.Server
	closers   []func() error
	stopPush  context.CancelFunc
	pushDone  chan error
}

// Start brings the stack up; Close takes it down.
func Start(ctx context.Context, cfg Config) (st *Stack, err error) {
	st = &Stack{}
	started := st // the returns below set st to nil
	defer func() {
		if err != nil {
			err = errors.Join(err, started.Close())
		}
	}()
	if cfg.PubSubAddr == "" {
		cfg.PubSubAddr = "127.0.0.1:0"
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
	}
	progress("the Pub/Sub emulator (pstest, in this process) and its topics")
	if st.pubsub, err = startPubSub(cfg.PubSubAddr); err != nil {
		return nil, err
	}
	st.PubSubAddr = st.pubsub.addr
	// The real client reads this; every Pub/Sub client in the process (ours
	// and the functions') then talks to the emulator.
	if err := os.Setenv("PUBSUB_EMULATOR_HOST", st.PubSubAddr); err != nil {
		return nil, err
	}
	if st.client, err = pubsub.NewClient(ctx, Project); err != nil {
		return nil, fmt.Errorf("pubsub client: %w", err)
	}
	if err = st.createTopology(ctx); err != nil {
		return nil, err
	}
	st.Secrets, err = devSecrets()
	if err != nil {
		return nil, err
	}
	progress("the secrets (Secret Manager stand-in) and the Events API stand-in")
	base, platformID, mcmKey := cfg.MCMBaseURL, cfg.MCMPlatformID, cfg.MCMAPIKey
	if base == "" {
		platformID, mcmKey = PlatformID, MCMAPIKey
		st.Sink = mcmsink.New(mcmsink.Config{PlatformID: PlatformID, APIKey: MCMAPIKey})
		if st.SinkURL, err = st.serve(cfg.SinkAddr, st.Sink); err != nil {
			return nil, fmt.Errorf("events API stand-in: %w", err)
		}
		base = st.SinkURL
	}
	st.Secrets.Set(SecretMCMKey, mcmKey)
	if st.SecretServer, err = fakesecrets.StartGCP(); err != nil {
		return nil, fmt.Errorf("secret manager stand-in: %w", err)
	}
	for name, value := range st.Secrets.Values() {
		st.SecretServer.Set(name, value)
	}
	env := map[string]string{
		"QUEUE_BACKEND":              "pubsub",
		"PUBSUB_TOPIC":               Topic,
		"DEADLETTER_TOPIC":           DeadLetterTopic,
		"BACKFILL_SUBSCRIPTION":      DeadLetterSub,
		"INGEST_API_KEYS_SECRET":     SecretAPIKeys,
		"INGEST_SIGNING_KEYS_SECRET": SecretSigningKeys,
		"PII_SALT_SECRET":            SecretSalt,
		"MCM_BASE_URL":               base,
		"MCM_PLATFORM_ID":            platformID,
		"MCM_API_KEY_SECRET":         SecretMCMKey,
		"DFINERY_KEYS_SECRET":        SecretDFINERY,
		"ERASE_KEYS_SECRET":          SecretEraseKeys,
	}
	if err = st.startAttestation(env); err != nil {
		return nil, err
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	sink, err := st.archiveSink(ctx, cfg, env)
	if err != nil {
		return nil, err
	}
	st.Env = env
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st.Counters = newCounters()
	logger = slog.New(countingHandler{c: st.Counters, inner: logger.Handler()})
	if st.CountersURL, err = st.serve(cfg.AdminAddr, http.HandlerFunc(st.serveCounters)); err != nil {
		return nil, fmt.Errorf("counters: %w", err)
	}
	st.CountersURL += "/counters"
	// Before ingest starts: every accepted event is archived.
	st.archive = startArchiveWriter(sink, cfg.ArchiveMaxDuration, logger.With("subscription", ArchiveSub))
	st.pubsub.front.archive = st.archive
	// First at Close: what it holds is written before the folder may go.
	st.closers = append([]func() error{st.archive.Close}, st.closers...)
	progress("the ledger (" + cmp.Or(env["LEDGER_BACKEND"], "in memory") + ")")
	if st.LedgerAddr, err = st.localLedger(ctx, env); err != nil {
		return nil, err
	}
	st.LedgerBackend = cmp.Or(env["LEDGER_BACKEND"], "memory")
	opts := setup.Options{Secrets: st.Secrets, Logger: logger}
	if st.LedgerAddr == "" {
		st.Ledger = ledger.NewMemory(nil)
		opts.Ledger = st.Ledger
	}

	progress("the functions: ingest, forwarder, verify, backfill")
	ingestFn, err := setup.Ingest(ctx, settings.FromMap(env), opts)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	st.closers = append(st.closers, ingestFn.Close)
	if st.IngestURL, err = st.serve(cfg.IngestAddr, ingestFn.Handler); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	pushTo := (&http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: pushWorkers}}).Do
	if st.ForwarderURL = cfg.ExternalForwarder; st.ForwarderURL == "" {
		fwd, err := setup.NewForwarder(ctx, settings.FromMap(env), opts)
		if err != nil {
			return nil, fmt.Errorf("forwarder: %w", err)
		}
		st.closers = append(st.closers, fwd.Close)
		if st.ForwarderURL, err = st.serve(cfg.ForwarderAddr, fwd.Handler); err != nil {
			return nil, fmt.Errorf("forwarder: %w", err)
		}
		pushTo = inProcess{fwd.Handler}.RoundTrip // the URL serves others; the push needs no socket
	}
	verifyFn, err := setup.Verify(ctx, settings.FromMap(env), opts)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	st.closers = append(st.closers, verifyFn.Close)
	if st.VerifyURL, err = st.serve(cfg.VerifyAddr, verifyFn.Handler); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	// No BACKFILL_REPLAY_SUBSCRIPTION here: pstest's time Seek (v2.8.0)
	// re-adds messages without their body and every topic's messages, and
	// the next pull panics; replay is tested against Google's emulator.
	backfillFn, err := setup.NewBackfill(ctx, settings.FromMap(env), opts)
	if err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	st.closers = append(st.closers, backfillFn.Close)
	if st.BackfillURL, err = st.serve(cfg.BackfillAddr, backfillFn.Handler); err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	progress("the push subscription to the forwarder")
	st.startPush(cfg.PushMaxBackoff, pushTo)
	if cfg.BackfillEvery > 0 {
		st.startSchedule(cfg.BackfillEvery, backfillFn.Core)
	}
	return st, nil
}

// startSchedule runs b every interval until Close, as Cloud Scheduler runs
// the deployed backfill; each run logs its summary.
func (st *Stack) startSchedule(every time.Duration, b *backfill.Backfill) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				// Run logs its summary and its error; the next tick runs again.
				_, _ = b.Run(ctx, backfill.Params{})
			case <-ctx.Done():
				return
			}
		}
	}()
	st.closers = append([]func() error{func() error { cancel(); <-done; return nil }}, st.closers...)
}

// pushWorkers is how many pushes the local push subscription has in flight
// at most: enough for a forwarder instance at the Events API's latency
// (64 at 50 ms is some 1,300 events/s); on loopback a few keep up.
const pushWorkers = 64

// startPush delivers the events subscription to the forwarder as a push
// subscription would.
func (st *Stack) startPush(maxBackoff time.Duration, send func(*http.Request) (*http.Response, error)) {
	if maxBackoff <= 0 {
		maxBackoff = 10 * time.Second
	}
	dl := st.client.Publisher(DeadLetterTopic)
	p := &pusher{queue: st.pubsub.front.events, workers: pushWorkers, url: st.ForwarderURL, maxBackoff: maxBackoff,
		send:         send,
		subscription: EventsSub, deadLetter: dl, maxAttempts: MaxDeliveryAttempts}
	ctx, cancel := context.WithCancel(context.Background())
	st.stopPush, st.pushDone = cancel, make(chan error, 1)
	go func() { st.pushDone <- p.run(ctx); dl.Stop() }()
}

func (st *Stack) createTopology(ctx context.Context) error {
	for _, t := range []string{Topic, DeadLetterTopic} {
		if _, err := st.client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: t}); err != nil {
			return fmt.Errorf("create topic %s: %w", t, err)
		}
	}
	subs := []*pubsubpb.Subscription{
		// No DeadLetterPolicy here: the push stand-in applies it (see
		// pusher), as pstest's own never lets go of a dead letter.
		{Name: EventsSub, Topic: Topic, AckDeadlineSeconds: 60},
		{Name: DeadLetterSub, Topic: DeadLetterTopic, AckDeadlineSeconds: 60},
	}
	for _, s := range subs {
		if _, err := st.client.SubscriptionAdminClient.CreateSubscription(ctx, s); err != nil {
			return fmt.Errorf("create subscription %s: %w", s.Name, err)
		}
	}
	return nil
}

func devSecrets() (*secrets.Memory, error) {
	id, secret, _ := splitKey(DevAPIKey)
	stored := auth.HashAPIKey(id, DevSource, secret, []byte("local-dev-salt-0"))
	apiKeys, err := jsonString(auth.APIKeyFile{Keys: []auth.APIKey{stored}})
	if err != nil {
		return nil, err
	}
	signing, err := jsonString(auth.SigningKeyFile{Keys: []auth.SigningKey{{Source: DevSource, Secret: DevSigningSecret}}})
	if err != nil {
		return nil, err
	}
	return secrets.NewMemory(map[string]string{
		SecretAPIKeys:     apiKeys,
		SecretSigningKeys: signing,
		SecretSalt:        "local-development-pii-salt",
		SecretDFINERY:     `["` + DevDFINERYKey + `"]`,
		SecretEraseKeys:   DevEraseKey,
	}), nil
}

func (st *Stack) serve(addr string, h http.Handler) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := httpserver.Serve(ln, h, httpserver.Defaults())
	st.servers = append(st.servers, srv)
	return "http://" + ln.Addr().String(), nil
}

func (st *Stack) serveCounters(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/counters" {
		http.NotFound(w, r)
		return
	}
	counters := st.Counters.Snapshot()
	if st.Sink != nil {
		s := st.Sink.Stats()
		for k, v := range map[string]int{"requests": s.Requests, "accepted": s.Accepted, "rejected_4xx": s.Rejected4xx,
			"injected_5xx": s.Injected5xx, "injected_429": s.Injected429, "timeouts": s.Timeouts, "duplicates": s.Duplicates} {
			counters["events_api_standin."+k] = int64(v)
		}
	}
	writeCounters(w, counters)
}

// FunctionEnv is the environment for a function of this stack run in a
// process of its own (`eventrelay serve`): the stack's settings, its
// emulators, and the Functions Framework target.
func (st *Stack) FunctionEnv(target string) []string {
	out := []string{"FUNCTION_TARGET=" + target, "SECRETS_BACKEND=gcp",
		"SECRETMANAGER_EMULATOR_HOST=" + st.SecretServer.Addr, "PUBSUB_EMULATOR_HOST=" + st.PubSubAddr}
	// The ledger emulator's address (and local credentials), which the
	// clients read from the process's environment.
	for k, v := range st.ledgerEnv {
		out = append(out, k+"="+v)
	}
	for k, v := range st.Env {
		out = append(out, k+"="+v)
	}
	return out
}

// WriteServeEnv writes FunctionEnv(target) to path (mode 0600) as shell
// assignments, for `(set -a; . path; eventrelay serve)`: every variable
// `eventrelay serve` needs to run target against this stack.
func (st *Stack) WriteServeEnv(target, path string) error {
	env := st.FunctionEnv(target)
	slices.Sort(env)
	var b strings.Builder
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		b.WriteString(k + "='" + strings.ReplaceAll(v, "'", `'\''`) + "'\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// Client is a Pub/Sub client on the stack's emulator.
func (st *Stack) Client() *pubsub.Client { return st.client }

// Close stops everything it started.
func (st *Stack) Close() error {
	var errs []error
	if st.stopPush != nil {
		st.stopPush()
		if err := <-st.pushDone; err != nil {
			errs = append(errs, err)
		}
	}
	// The pushes have ended (above), so what a server still holds is a
	// caller's request or a connection opened and never used (an HTTP
	// client's spare dial), which Shutdown would wait on until it is five
	// seconds old. Past a short grace both are cut, as an instance that
	// stops cuts them.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, s := range st.servers {
		err := s.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = s.Close()
		}
		errs = append(errs, err)
	}
	for _, c := range st.closers {
		errs = append(errs, c())
	}
	if st.client != nil {
		errs = append(errs, st.client.Close())
	}
	if st.pubsub != nil {
		errs = append(errs, st.pubsub.Close())
	}
	if st.SecretServer != nil {
		st.SecretServer.Close()
	}
	return errors.Join(errs...)
}
