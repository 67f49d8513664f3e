package setup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"eventrelay.dev/eventrelay/internal/testclose"
	"strings"
	"sync"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/logging"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// barrier answers no read before want reads are waiting: read one after
// the other, the first never returns (it gives up after a while and says
// so, so the test fails rather than hangs).
type barrier struct {
	mu      sync.Mutex
	want    int
	waiting int
	all     chan struct{}
	values  map[string]string
}

func (b *barrier) Get(ctx context.Context, name string) ([]byte, error) {
	b.mu.Lock()
	if b.waiting++; b.waiting == b.want {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-time.After(10 * time.Second):
		return nil, errors.New("read alone: the other secrets were not asked for meanwhile")
	}
	v, ok := b.values[name]
	if !ok {
		return nil, secrets.ErrNotFound
	}
	return []byte(v), nil
}

func TestGateReadsItsSecretsAtOnce(t *testing.T) {
	src := &barrier{want: 3, all: make(chan struct{}), values: map[string]string{"salt": "s", "signing": "{}"}}
	g := &awaitSecrets{src: src, required: []string{"salt"}, anyOf: []string{"api", "signing"}}
	missing, err := g.missing(context.Background())
	if err != nil || len(missing) != 0 {
		t.Fatalf("missing %v, %v", missing, err)
	}
	// The same answers as one after the other: required first, then the
	// first of anyOf that has a value.
	src = &barrier{want: 3, all: make(chan struct{}), values: map[string]string{}}
	g.src = src
	if missing, err = g.missing(context.Background()); err != nil || strings.Join(missing, "; ") != "salt; api or signing" {
		t.Fatalf("nothing set: missing %q, %v", missing, err)
	}
}

// countingSource counts reads per secret.
type countingSource struct {
	*secrets.Memory
	mu    sync.Mutex
	reads map[string]int
}

func (c *countingSource) Get(ctx context.Context, name string) ([]byte, error) {
	c.mu.Lock()
	c.reads[name]++
	c.mu.Unlock()
	return c.Memory.Get(ctx, name)
}

// TestStartLogsInitDone: one "init done" line with the start's phases, and
// the prefetch does not read a secret twice.
func TestStartLogsInitDone(t *testing.T) {
	src := &countingSource{Memory: secrets.NewMemory(map[string]string{"keys": `{"api_keys":[]}`,
		"salt": "0123456789abcdef"}), reads: map[string]int{}}
	var logs bytes.Buffer
	log, err := logging.New(&logs, "info")
	if err != nil {
		t.Fatal(err)
	}
	env := settings.FromMap(map[string]string{"INGEST_API_KEYS_SECRET": "keys", "PII_SALT_SECRET": "salt"})
	f, err := Ingest(context.Background(), env, Options{Publisher: &queue.Memory{}, Secrets: secrets.NewCached(src, time.Minute),
		Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, f)
	var line map[string]any
	for l := range strings.SplitSeq(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["message"] == "init done" {
			if line != nil {
				t.Fatalf("two init done lines:\n%s", logs.String())
			}
			line = m
		}
	}
	if line == nil || line["function"] != "ingest" || line["outcome"] != "init_done" {
		t.Fatalf("no init done line of ingest:\n%s", logs.String())
	}
	total, _ := line["init_ms"].(float64)
	sum := 0.0
	for _, p := range []string{"config", "secrets_client", "queue", "ledger", "catalog", "secrets_and_handler"} {
		v, ok := line[p+"_ms"].(float64)
		if !ok || v < 0 {
			t.Errorf("phase %s_ms: %v", p, line[p+"_ms"])
		}
		sum += v
	}
	if total <= 0 || sum > total+0.01 {
		t.Errorf("init_ms %v, the phases add up to %v", total, sum)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.reads["keys"] != 1 || src.reads["salt"] != 1 {
		t.Fatalf("reads at start: %v, want each secret once", src.reads)
	}
}
