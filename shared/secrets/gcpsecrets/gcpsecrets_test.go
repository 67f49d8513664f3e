package gcpsecrets

import (
	"context"
	"errors"
	"eventrelay.dev/eventrelay/internal/testclose"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/fakesecrets"
	"eventrelay.dev/eventrelay/shared/secrets"
)

const secret = "projects/eventrelay-test/secrets/mcm-api-key"

// The real Secret Manager client over gRPC against the local server.
func TestSecretManager(t *testing.T) {
	fake, err := fakesecrets.StartGCP()
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	fake.Set(secret, "key-v1")
	src, err := New(context.Background(), fake.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, src)
	ctx := context.Background()

	get := func(name string) string {
		t.Helper()
		v, err := src.Get(ctx, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return string(v)
	}
	if v := get(secret); v != "key-v1" {
		t.Fatalf("latest = %q", v)
	}
	fake.Set(secret, "key-v2")
	if v := get(secret); v != "key-v2" {
		t.Fatalf("after rotation latest = %q", v)
	}
	if v := get(secret + "/versions/1"); v != "key-v1" {
		t.Fatalf("pinned version = %q", v)
	}

	t.Run("cached rotation", func(t *testing.T) {
		clock := time.Now()
		c := secrets.NewCached(src, time.Minute, secrets.WithClock(func() time.Time { return clock }))
		v, _ := c.Get(ctx, secret)
		fake.Set(secret, "key-v3")
		if again, _ := c.Get(ctx, secret); string(again) != string(v) {
			t.Fatal("cache did not hold within the TTL")
		}
		clock = clock.Add(2 * time.Minute)
		if v, _ := c.Get(ctx, secret); string(v) != "key-v3" {
			t.Fatalf("after TTL = %q", v)
		}
		fake.Set(secret, "key-v4")
		c.Invalidate(secret)
		if v, _ := c.Get(ctx, secret); string(v) != "key-v4" {
			t.Fatalf("after Invalidate = %q", v)
		}
	})
	t.Run("not found", func(t *testing.T) {
		if _, err := src.Get(ctx, "projects/eventrelay-test/secrets/nope"); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("bad names", func(t *testing.T) {
		for _, n := range []string{"mcm-api-key", "projects/p/topics/t", "projects//secrets/x", secret + "/versions/"} {
			if _, err := src.Get(ctx, n); err == nil || !strings.Contains(err.Error(), "is not projects/") {
				t.Errorf("%q: %v", n, err)
			}
		}
	})
	t.Run("checksum mismatch", func(t *testing.T) {
		fake.CorruptChecksums(true)
		defer fake.CorruptChecksums(false)
		if _, err := src.Get(ctx, secret); err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Fatalf("got %v", err)
		}
	})
}
