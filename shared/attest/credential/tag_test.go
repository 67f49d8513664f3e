package credential

import (
	"context"
	"testing"

	"eventrelay.dev/eventrelay/shared/secrets"
)

func TestTag(t *testing.T) {
	ctx := context.Background()
	src := secrets.NewMemory(map[string]string{"k": `{"credential_keys":[{"id":"old","secret":"0123456789abcdef0123456789abcdef"}]}`})
	k := NewKeys(src, "k", nil)
	msg := []byte("challenge body")
	tag, err := k.Tag(ctx, "attest challenge", msg)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		purpose string
		msg     []byte
		tag     []byte
		want    bool
	}{
		"itself":             {"attest challenge", msg, tag, true},
		"truncated to 16":    {"attest challenge", msg, tag[:16], true},
		"too short":          {"attest challenge", msg, tag[:15], false},
		"another purpose":    {"something else", msg, tag, false},
		"another message":    {"attest challenge", []byte("challenge bodY"), tag, false},
		"the plain secret's": {"attest challenge", msg, mac("0123456789abcdef0123456789abcdef", string(msg)), false},
	} {
		if got, err := k.CheckTag(ctx, c.purpose, c.msg, c.tag); err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", name, got, err, c.want)
		}
	}
	// A rotation: the new key tags, the old one still checks.
	src.Set("k", `{"credential_keys":[{"id":"new","secret":"fedcba9876543210fedcba9876543210"},{"id":"old","secret":"0123456789abcdef0123456789abcdef"}]}`)
	if ok, err := k.CheckTag(ctx, "attest challenge", msg, tag); !ok || err != nil {
		t.Errorf("a tag of the old key after rotation: %v %v", ok, err)
	}
	if newTag, _ := k.Tag(ctx, "attest challenge", msg); string(newTag) == string(tag) {
		t.Error("the new key tags as the old one")
	}
}
