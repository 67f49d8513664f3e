// Package refusal is the one error type of the attestation verifiers (App
// Attest, Play Integrity, App Check): a machine-readable reason safe to
// return to the app, a detail for logs, and whether the failure was ours
// (retry later) rather than the app's.
package refusal

import (
	"errors"
	"fmt"
)

// Error is a failed check.
type Error struct {
	Check     string // which verifier: "app attest", "play integrity", "app check"
	Reason    string
	Detail    string
	Retryable bool // our side or the platform failed, not the app
}

func (e *Error) Error() string { return e.Check + ": " + e.Reason + ": " + e.Detail }

// New returns a refusal of the app's attestation.
func New(check, reason, format string, args ...any) error {
	return &Error{Check: check, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Unavailable returns a failure to check at all (retry later).
func Unavailable(check, reason, format string, args ...any) error {
	return &Error{Check: check, Reason: reason, Detail: fmt.Sprintf(format, args...), Retryable: true}
}

// ReasonOf is err's reason, "" for nil, and the message of any other error.
func ReasonOf(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Reason
	}
	return "not a refusal: " + err.Error()
}
