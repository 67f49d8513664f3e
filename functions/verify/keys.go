package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"

	"eventrelay.dev/eventrelay/shared/secrets"
)

// Key encodings (DFINERY_KEY_ENCODING): how an issued UUID becomes the
// HMAC key.
const (
	EncodingText      = "text"       // the UUID's characters
	EncodingUUIDBytes = "uuid-bytes" // its 16 bytes
)

// SecretKeys reads the DFINERY keys and the optional static header token
// from secrets on every call; the source's cache keeps that off the network,
// and the keys are parsed again only when the secret's bytes change.
type SecretKeys struct {
	Source      secrets.Source
	KeysSecret  string
	TokenSecret string // "": no token
	Encoding    string // EncodingText or EncodingUUIDBytes

	mu     sync.Mutex
	raw    []byte // the secret's bytes keys was parsed from
	parsed [][]byte
}

// HMACKeys implements Keys.
func (k *SecretKeys) HMACKeys(ctx context.Context) ([][]byte, error) {
	raw, err := k.Source.Get(ctx, k.KeysSecret)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.parsed != nil && bytes.Equal(raw, k.raw) {
		return k.parsed, nil
	}
	keys, err := ParseKeys(raw, k.Encoding)
	if err != nil {
		return nil, err
	}
	k.raw, k.parsed = bytes.Clone(raw), keys
	return keys, nil
}

// Token implements Keys.
func (k *SecretKeys) Token(ctx context.Context) (string, error) {
	if k.TokenSecret == "" {
		return "", nil
	}
	raw, err := k.Source.Get(ctx, k.TokenSecret)
	return strings.TrimSpace(string(raw)), err
}

// ParseKeys reads the DFINERY keys secret: a JSON list of the issued UUIDs,
// the newest first, or one bare key. Blank entries are ignored; a secret
// with none is refused.
func ParseKeys(raw []byte, encoding string) ([][]byte, error) {
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		list = []string{strings.TrimSpace(string(raw))}
	}
	keys := make([][]byte, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if encoding == EncodingUUIDBytes {
			u, err := uuid.Parse(s)
			if err != nil {
				return nil, fmt.Errorf("key %d is not a UUID", len(keys))
			}
			keys = append(keys, u[:])
			continue
		}
		keys = append(keys, []byte(s))
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("the secret holds no key")
	}
	return keys, nil
}
