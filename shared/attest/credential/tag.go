package credential

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
)

// Tag is an HMAC-SHA256 of msg under the first active key, through a key
// derived from it for purpose: the exchange signs its challenges with the
// credential keys this way, and no tag made for one purpose is a tag for
// another or a credential's MAC (those are keyed by the secret itself, over
// text that starts with Prefix).
func (k *Keys) Tag(ctx context.Context, purpose string, msg []byte) ([]byte, error) {
	keys, _, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	now := k.now()
	for _, key := range keys {
		if key.active(now) {
			return tag(key.Secret, purpose, msg), nil
		}
	}
	return nil, fmt.Errorf("%w: every key has expired", ErrUnavailable)
}

// CheckTag reports whether got (a prefix of at least 16 bytes of a Tag) is
// msg's tag for purpose under any active key, so that what was tagged just
// before a rotation still checks.
func (k *Keys) CheckTag(ctx context.Context, purpose string, msg, got []byte) (bool, error) {
	if len(got) < 16 {
		return false, nil
	}
	keys, _, err := k.load(ctx)
	if err != nil {
		return false, err
	}
	now := k.now()
	for _, key := range keys {
		if key.active(now) && len(got) <= sha256.Size && hmac.Equal(tag(key.Secret, purpose, msg)[:len(got)], got) {
			return true, nil
		}
	}
	return false, nil
}

func tag(secret, purpose string, msg []byte) []byte {
	d := hmac.New(sha256.New, []byte(secret))
	d.Write([]byte("eventrelay tag key: " + purpose))
	m := hmac.New(sha256.New, d.Sum(nil))
	m.Write(msg)
	return m.Sum(nil)
}
