package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"eventrelay.dev/eventrelay/shared/attest/credential"
)

// HeaderAttestation carries the short-lived credential the attestation
// exchange handed out. It authenticates on its own (the app ships no API
// key), or sits next to an API key or a signature, which then must name the
// same source.
const HeaderAttestation = "X-Eventrelay-Attestation"

// Reasons for a refusal by a source's attestation policy.
const (
	ReasonAttestationRequired = "attestation_required"
	ReasonAttestationExpired  = "attestation_expired"
	ReasonAttestationInvalid  = "attestation_invalid"
)

// Policy is what a source's requests must show of attestation.
type Policy string

// Policies.
const (
	PolicyOff     Policy = "off"     // credentials are not looked at
	PolicyMonitor Policy = "monitor" // accept, and log the verdict (counted)
	PolicyRequire Policy = "require" // refuse anything without a valid credential
)

// ParsePolicy reads a policy name.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PolicyOff, PolicyMonitor, PolicyRequire:
		return p, nil
	}
	return "", fmt.Errorf("attestation policy %q is not off, monitor or require", s)
}

// Verdicts, as logged and counted.
const (
	VerdictValid   = "valid"
	VerdictMissing = "missing"
	VerdictExpired = "expired"
	VerdictInvalid = "invalid"
	// VerdictUnavailable: the credential keys could not be read (monitor
	// only; require answers 503).
	VerdictUnavailable = "unavailable"
)

// Attestation configures the credential check.
type Attestation struct {
	Keys     *credential.Keys
	Policies map[string]Policy // by source; a source not listed is off
	// Logger receives one "attestation" line per request of a monitor or
	// require source: outcome attestation_checked, source, policy, verdict.
	// The log-based metrics are made from it.
	Logger *slog.Logger
}

func (a *Attestation) policy(source string) Policy {
	if p, ok := a.Policies[source]; ok {
		return p
	}
	return PolicyOff
}

// attestation applies the source's policy to an authenticated principal.
// cred is the credential header's value ("" when absent).
func (a *Authenticator) attestation(ctx context.Context, p Principal, cred string) (Principal, error) {
	att := a.cfg.Attestation
	policy := att.policy(p.Source)
	if policy == PolicyOff {
		return p, nil
	}
	verdict, detail := VerdictMissing, error(nil)
	if cred != "" {
		c, err := att.Keys.Verify(ctx, cred)
		switch {
		case errors.Is(err, credential.ErrUnavailable) && policy == PolicyRequire:
			return Principal{}, &Error{Reason: ReasonUnavailable, err: err}
		case errors.Is(err, credential.ErrUnavailable):
			// monitor accepts: our key store failing is no reason to refuse.
			verdict, detail = VerdictUnavailable, err
		case errors.Is(err, credential.ErrExpired):
			verdict, detail = VerdictExpired, err
		case err != nil:
			verdict, detail = VerdictInvalid, err
		case c.Source != p.Source:
			verdict, detail = VerdictInvalid, fmt.Errorf("credential is for source %q, the key for %q", c.Source, p.Source)
		default:
			verdict, p.Subject = VerdictValid, c.Subject
		}
	}
	p.Attestation = verdict
	a.logVerdict(ctx, p.Source, policy, verdict, detail)
	if policy == PolicyRequire && verdict != VerdictValid {
		return Principal{}, verdictError(verdict, detail)
	}
	return p, nil
}

// credentialOnly authenticates a request whose only credential is an
// attestation credential: it must be valid whatever the policy, since
// nothing else vouches for the caller, and name a source that takes
// attestations (in ATTEST_SOURCES, whatever its policy): the credential
// keys sign for the exchange's sources only, not for every source an API
// key or a signing key serves.
func (a *Authenticator) credentialOnly(ctx context.Context, cred string) (Principal, error) {
	att := a.cfg.Attestation
	c, err := att.Keys.Verify(ctx, cred)
	verdict := VerdictValid
	switch {
	case errors.Is(err, credential.ErrUnavailable):
		return Principal{}, &Error{Reason: ReasonUnavailable, err: err}
	case errors.Is(err, credential.ErrExpired):
		verdict = VerdictExpired
	case err != nil:
		verdict = VerdictInvalid
	}
	_, attests := att.Policies[c.Source]
	if verdict == VerdictValid && !attests {
		verdict, err = VerdictInvalid, fmt.Errorf("credential names source %q, which takes no attestations", c.Source)
	}
	if policy := att.policy(c.Source); attests && policy != PolicyOff {
		a.logVerdict(ctx, c.Source, policy, verdict, err)
	}
	if verdict != VerdictValid {
		return Principal{}, verdictError(verdict, err)
	}
	return Principal{Source: c.Source, Method: "attestation", Attestation: VerdictValid, Subject: c.Subject}, nil
}

func verdictError(verdict string, detail error) *Error {
	switch verdict {
	case VerdictExpired:
		return &Error{Reason: ReasonAttestationExpired, err: detail}
	case VerdictInvalid:
		return &Error{Reason: ReasonAttestationInvalid, err: detail}
	}
	return &Error{Reason: ReasonAttestationRequired, err: errors.New("the source requires an attestation credential (" + HeaderAttestation + ")")}
}

func (a *Authenticator) logVerdict(ctx context.Context, source string, policy Policy, verdict string, detail error) {
	l := a.cfg.Attestation.Logger
	if l == nil {
		return
	}
	attrs := []slog.Attr{slog.String("outcome", "attestation_checked"), slog.String("source", source),
		slog.String("policy", string(policy)), slog.String("verdict", verdict)}
	if detail != nil {
		attrs = append(attrs, slog.String("detail", detail.Error()))
	}
	l.LogAttrs(ctx, slog.LevelInfo, "attestation", attrs...)
}

// hasOtherCredentials reports whether h carries an API key or a signature
// (an Authorization header of another scheme is not ours).
func hasOtherCredentials(h http.Header) bool {
	_, isBearer := bearer(h)
	return h.Get(HeaderSignature) != "" || h.Get("X-Api-Key") != "" || isBearer
}
