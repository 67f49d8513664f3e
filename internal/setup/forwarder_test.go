package setup

import (
	"context"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// A bad forwarder setting stops the start with one line naming it. A zero
// first backoff, or a longest backoff shorter than the first, used to be
// accepted here and quietly replaced by the core's own defaults (5 s, 10
// min): now the registry's bounds and this check refuse them.
func TestForwarderSettings(t *testing.T) {
	base := map[string]string{"MCM_BASE_URL": "http://127.0.0.1:1", "MCM_PLATFORM_ID": "plat-local", "MCM_API_KEY_SECRET": "mcm-key"}
	opt := Options{Secrets: secrets.NewMemory(nil), Publisher: &queue.Memory{}, DeadLetter: &queue.Memory{}}
	for _, c := range []struct{ set, value, want string }{
		{"", "", ""},
		{"FORWARDER_FIRST_BACKOFF", "0s", "FORWARDER_FIRST_BACKOFF"},
		{"FORWARDER_MAX_BACKOFF", "2s", "FORWARDER_MAX_BACKOFF: 2s is shorter than FORWARDER_FIRST_BACKOFF (5s)"},
		{"FORWARDER_MAX_ATTEMPTS", "0", "FORWARDER_MAX_ATTEMPTS"},
		{"FORWARDER_BREAKER_THRESHOLD", "many", "FORWARDER_BREAKER_THRESHOLD"},
		{"FORWARDER_BREAKER_COOLDOWN", "0s", "FORWARDER_BREAKER_COOLDOWN"},
		{"FORWARDER_DEDUPE_WINDOW", "1s", "FORWARDER_DEDUPE_WINDOW"},
		{"FORWARDER_CONCURRENCY", "1000", "FORWARDER_CONCURRENCY"},
	} {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		if c.set != "" {
			env[c.set] = c.value
		}
		fn, err := NewForwarder(context.Background(), settings.FromMap(env), opt)
		if c.want == "" {
			if err != nil {
				t.Fatalf("valid settings: %v", err)
			}
			if err := fn.Close(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%q: %v, want one line naming %s", c.set, c.value, err, c.want)
		}
	}
}
