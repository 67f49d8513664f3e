// Package dfinery reads DFINERY Fraud Kill-Chain verification callbacks:
// it checks the ABX-HASH signature over the raw body and parses the body,
// form-encoded or JSON, into the fields the verifier decides on.
package dfinery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// HeaderHash carries Base64(HMAC-SHA256(key, raw body)).
const HeaderHash = "ABX-HASH"

// Signature errors, distinguishable for the machine-readable reason.
var (
	ErrUnsigned     = errors.New("no ABX-HASH header")
	ErrBadSignature = errors.New("ABX-HASH does not match the body")
)

// encodings DFINERY might use; the spec does not say which, so every
// standard spelling is accepted. Only the decoded MAC is compared.
var encodings = []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding,
	base64.URLEncoding, base64.RawURLEncoding}

// VerifyHash checks header against body with each key and returns the index
// of the key that matched (so logs can say which key is still in use).
func VerifyHash(header string, body []byte, keys [][]byte) (int, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return -1, ErrUnsigned
	}
	got, ok := decodeMAC(header)
	if !ok {
		return -1, ErrBadSignature
	}
	matched := -1
	for i, k := range keys {
		mac := hmac.New(sha256.New, k)
		mac.Write(body)
		// Compare against every key, not stopping at the first match, so the
		// time taken does not depend on which key matched.
		if hmac.Equal(mac.Sum(nil), got) && matched < 0 {
			matched = i
		}
	}
	if matched < 0 {
		return -1, ErrBadSignature
	}
	return matched, nil
}

func decodeMAC(s string) ([]byte, bool) {
	for _, enc := range encodings {
		if b, err := enc.DecodeString(s); err == nil && len(b) == sha256.Size {
			return b, true
		}
	}
	return nil, false
}

// Hash computes the header value for body with key (standard base64), as
// DFINERY does; the CLI's callback simulator and tests use it.
func Hash(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
