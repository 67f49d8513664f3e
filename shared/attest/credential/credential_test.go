package credential

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/secrets"
)

const (
	oldKey = `{"id":"k1","secret":"0123456789abcdef0123456789abcdef"}`
	newKey = `{"id":"k2","secret":"fedcba9876543210fedcba9876543210"}`
)

func setup(t testing.TB, keys string, clock *time.Time) (*Keys, *secrets.Memory) {
	t.Helper()
	src := secrets.NewMemory(map[string]string{"creds": `{"credential_keys":[` + keys + `]}`})
	return NewKeys(src, "creds", func() time.Time { return *clock }), src
}

func claims(now time.Time) Claims {
	return Claims{Source: "ios-app", Subject: Subject("apple", "TEAM.app", "key"), Via: "apple_attest",
		Issued: now.Unix(), Expires: now.Add(30 * time.Minute).Unix()}
}

func TestRoundTripAndRotation(t *testing.T) {
	clock := time.Unix(1_800_000_000, 0)
	k, src := setup(t, oldKey, &clock)
	ctx := context.Background()
	c1, err := k.Mint(ctx, claims(clock))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c1, "er1.k1.") {
		t.Fatalf("credential %q not signed by k1", c1)
	}
	got, err := k.Verify(ctx, c1)
	if err != nil || got != claims(clock) {
		t.Fatalf("verify: %+v %v", got, err)
	}
	// Rotation: the new key signs, the old still verifies.
	src.Set("creds", `{"credential_keys":[`+newKey+`,`+oldKey+`]}`)
	c2, err := k.Mint(ctx, claims(clock))
	if err != nil || !strings.HasPrefix(c2, "er1.k2.") {
		t.Fatalf("after rotation: %q %v", c2, err)
	}
	for _, c := range []string{c1, c2} {
		if _, err := k.Verify(ctx, c); err != nil {
			t.Errorf("verify %s: %v", c[:7], err)
		}
	}
	// The old key dropped: its credentials are refused.
	src.Set("creds", `{"credential_keys":[`+newKey+`]}`)
	if _, err := k.Verify(ctx, c1); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("dropped key: %v", err)
	}
	// Expiry, with the claims still readable for the source.
	clock = clock.Add(30 * time.Minute)
	if c, err := k.Verify(ctx, c2); !errors.Is(err, ErrExpired) || c.Source != "ios-app" {
		t.Errorf("expired: %+v %v", c, err)
	}
}

// A key may expire while the secret stays the same: a credential it signed
// is refused from then on, even one already verified and cached.
func TestKeyExpiresWithCachedCredential(t *testing.T) {
	clock := time.Unix(1_800_000_000, 0)
	k, _ := setup(t, `{"id":"k1","secret":"0123456789abcdef0123456789abcdef","expires":"`+
		clock.Add(10*time.Minute).UTC().Format(time.RFC3339)+`"}`, &clock)
	c, err := k.Mint(context.Background(), claims(clock))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(11 * time.Minute)
	if _, err := k.Verify(context.Background(), c); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("after its key expired: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	clock := time.Unix(1_800_000_000, 0)
	k, _ := setup(t, oldKey, &clock)
	ctx := context.Background()
	good, _ := k.Mint(ctx, claims(clock))
	parts := strings.Split(good, ".")
	other, _ := setup(t, `{"id":"k1","secret":"another-secret-of-32-characters!!"}`, &clock)
	forged, _ := other.Mint(ctx, claims(clock))
	cases := map[string]struct {
		cred string
		want error
	}{
		"empty":          {"", ErrMalformed},
		"api key":        {"shop-2026a.supersecretvalue", ErrMalformed},
		"too long":       {good + strings.Repeat("A", MaxLen), ErrMalformed},
		"no mac":         {"er1.k1." + parts[2], ErrMalformed},
		"short mac":      {"er1.k1." + parts[2] + ".AAAA", ErrMalformed},
		"unknown key":    {"er1.k9." + parts[2] + "." + parts[3], ErrUnknownKey},
		"other secret":   {forged, ErrBadMAC},
		"payload edited": {"er1.k1." + parts[2] + "x." + parts[3], ErrBadMAC},
		"source swapped": {strings.Replace(good, parts[2], parts[2][:len(parts[2])-2]+"AA", 1), ErrBadMAC},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := k.Verify(ctx, c.cred); !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestKeysSecret(t *testing.T) {
	clock := time.Unix(1_800_000_000, 0)
	for name, keys := range map[string]string{
		"short secret": `{"id":"k1","secret":"short"}`,
		"dot in id":    `{"id":"k.1","secret":"0123456789abcdef0123456789abcdef"}`,
		"duplicate":    oldKey + "," + oldKey,
		"none":         ``,
	} {
		t.Run(name, func(t *testing.T) {
			k, _ := setup(t, keys, &clock)
			if _, err := k.Mint(context.Background(), claims(clock)); !errors.Is(err, ErrUnavailable) {
				t.Errorf("got %v, want ErrUnavailable", err)
			}
		})
	}
	k, _ := setup(t, `{"id":"k1","secret":"0123456789abcdef0123456789abcdef","expires":"2020-01-01T00:00:00Z"}`, &clock)
	if _, err := k.Mint(context.Background(), claims(clock)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("all keys expired: %v", err)
	}
	missing := NewKeys(secrets.NewMemory(nil), "creds", nil)
	if _, err := missing.Verify(context.Background(), "er1.k1.e30."+strings.Repeat("A", 43)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("missing secret: %v", err)
	}
}

// FuzzVerify: arbitrary strings never panic and never verify, since a
// fuzzer cannot forge HMAC-SHA256; only the minted seed may pass.
func FuzzVerify(f *testing.F) {
	clock := time.Unix(1_800_000_000, 0)
	k, _ := setup(f, oldKey, &clock)
	good, _ := k.Mint(context.Background(), claims(clock))
	f.Add(good)
	f.Add("er1.k1..")
	f.Add("er1..e30.AAAA")
	f.Add("er1.k1.e30." + strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, cred string) {
		c, err := k.Verify(context.Background(), cred)
		if err == nil && cred != good {
			t.Fatalf("forged credential accepted: %q → %+v", cred, c)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	clock := time.Unix(1_800_000_000, 0)
	k, _ := setup(b, oldKey, &clock)
	cred, _ := k.Mint(context.Background(), claims(clock))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Verify(context.Background(), cred); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyFirst: a credential's first check on an instance (MAC and
// JSON decode), the cache emptied before each.
func BenchmarkVerifyFirst(b *testing.B) {
	clock := time.Unix(1_800_000_000, 0)
	k, _ := setup(b, oldKey, &clock)
	cred, _ := k.Mint(context.Background(), claims(clock))
	b.ReportAllocs()
	for b.Loop() {
		k.verified.Clear()
		if _, err := k.Verify(context.Background(), cred); err != nil {
			b.Fatal(err)
		}
	}
}
