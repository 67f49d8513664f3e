package verify

import (
	"context"
	"errors"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/shared/secrets"
)

func TestParseKeys(t *testing.T) {
	const a, b = "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	for _, c := range []struct {
		name, raw, encoding string
		want                []string // text keys, or "bytes:" + the UUID
		err                 string
	}{
		{"list, newest first", `["` + a + `", " ` + b + ` "]`, EncodingText, []string{a, b}, ""},
		{"one bare key", " " + a + "\n", EncodingText, []string{a}, ""},
		{"blank entries ignored", `["", "` + a + `"]`, EncodingText, []string{a}, ""},
		{"uuid bytes", `["` + strings.ToUpper(a) + `"]`, EncodingUUIDBytes, []string{"bytes:" + a}, ""},
		{"not a UUID", `["` + a + `", "nope"]`, EncodingUUIDBytes, nil, "key 1 is not a UUID"},
		{"empty list", `[]`, EncodingText, nil, "holds no key"},
		{"empty value", "  \n", EncodingText, nil, "holds no key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseKeys([]byte(c.raw), c.encoding)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || len(got) != len(c.want) {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
			for i, w := range c.want {
				if u, ok := strings.CutPrefix(w, "bytes:"); ok {
					if len(got[i]) != 16 || got[i][0] != 0x3f || got[i][15] != 0x01 {
						t.Fatalf("key %d = %x, want the 16 bytes of %s", i, got[i], u)
					}
					continue
				}
				if string(got[i]) != w {
					t.Fatalf("key %d = %q, want %q", i, got[i], w)
				}
			}
		})
	}
}

func TestSecretKeysReadEachCall(t *testing.T) {
	mem := secrets.NewMemory(map[string]string{"keys": `["k1"]`, "token": " t0k3n\n"})
	k := &SecretKeys{Source: mem, KeysSecret: "keys", TokenSecret: "token", Encoding: EncodingText}
	ctx := context.Background()
	if got, err := k.HMACKeys(ctx); err != nil || len(got) != 1 || string(got[0]) != "k1" {
		t.Fatalf("keys %q, %v", got, err)
	}
	mem.Set("keys", `["k2","k1"]`) // rotated: the new key first
	if got, _ := k.HMACKeys(ctx); len(got) != 2 || string(got[0]) != "k2" {
		t.Fatalf("after rotation %q", got)
	}
	if tok, err := k.Token(ctx); err != nil || tok != "t0k3n" {
		t.Fatalf("token %q, %v", tok, err)
	}
	if tok, err := (&SecretKeys{Source: mem}).Token(ctx); err != nil || tok != "" {
		t.Fatalf("no token secret: %q, %v", tok, err)
	}
	if _, err := (&SecretKeys{Source: mem, KeysSecret: "missing"}).HMACKeys(ctx); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("missing secret: %v", err)
	}
}
