// Package jsonanswer writes a function's JSON answer: one place for the
// headers every HTTP function sends with it.
package jsonanswer

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Write sends v as the JSON body of an answer with status. Answers carry
// per-caller state (what was accepted, a credential, an erasure), so no
// cache in between may keep them.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// RetryAfter is a wait as Retry-After's whole seconds (RFC 9110), rounded
// up so a caller never comes back early, and at least 1.
func RetryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}
