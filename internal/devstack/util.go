package devstack

import (
	"encoding/json"
	"strings"
)

func splitKey(k string) (id, secret string, ok bool) { return strings.Cut(k, ".") }

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
