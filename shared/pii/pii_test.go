package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"eventrelay.dev/eventrelay/shared/event"
)

var salt = []byte("0123456789abcdef-salt")

// want is HMAC-SHA256(salt, v) in lower-case hex, computed afresh.
func want(v string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}

// TestHashIsKeyedSHA256: the pooled hashers give what a fresh HMAC gives,
// whatever value the same hasher hashed before (long, then short, then
// empty), and from many goroutines at once.
func TestHashIsKeyedSHA256(t *testing.T) {
	a, err := New(salt, []string{UserID}, IPKeep)
	if err != nil {
		t.Fatal(err)
	}
	values := []string{strings.Repeat("long-value-", 40), "alice@example.com", "", "é"}
	for _, v := range values {
		if got := a.Hash(v); got != want(v) {
			t.Fatalf("Hash(%q) = %s, want %s", v, got, want(v))
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				v := values[(g+i)%len(values)]
				if got := a.Hash(v); got != want(v) {
					t.Errorf("concurrent Hash(%q) = %s", v, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestApply(t *testing.T) {
	a, err := New(salt, []string{UserID, PersistentID}, IPTruncate)
	if err != nil {
		t.Fatal(err)
	}
	e := &event.Event{UserID: "alice@example.com", CustomID: "c-1",
		Device: &event.Device{PersistentID: "p-1", AdvertisingID: "ad-1", IP: "203.0.113.7"}}
	a.Apply(e)
	if e.UserID != want("alice@example.com") || e.Device.PersistentID != want("p-1") {
		t.Errorf("hashed fields: %q %q", e.UserID, e.Device.PersistentID)
	}
	if e.CustomID != "c-1" || e.Device.AdvertisingID != "ad-1" {
		t.Errorf("fields not configured were changed: %q %q", e.CustomID, e.Device.AdvertisingID)
	}
	if e.Device.IP != "203.0.113.0" {
		t.Errorf("ip %q, want the last octet zeroed", e.Device.IP)
	}
}
