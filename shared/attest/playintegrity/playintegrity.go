// Package playintegrity checks Google Play Integrity tokens: it has Google
// decode the token (decodeIntegrityToken, with the function's own service
// account) and checks the verdict against what the source allows.
//
// The app requests a standard integrity token with requestHash set to the
// hex SHA-256 of our one-time challenge (RequestHash), or a classic token
// with the challenge itself as nonce; either binds the token to one
// exchange, and the challenge is single-use.
package playintegrity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"eventrelay.dev/eventrelay/shared/attest/refusal"
)

// Device verdict labels, weakest first. A device that meets a level also
// carries the labels of the weaker ones.
const (
	MeetsBasic  = "MEETS_BASIC_INTEGRITY"
	MeetsDevice = "MEETS_DEVICE_INTEGRITY"
	MeetsStrong = "MEETS_STRONG_INTEGRITY"
)

// PlayRecognized is the app verdict of a binary Play distributed.
const PlayRecognized = "PLAY_RECOGNIZED"

// Reasons, one per check; safe to return to the caller.
const (
	ReasonMalformed     = "token_malformed"         // empty or oversized, or Google could not decode it
	ReasonOtherProject  = "token_other_project"     // Google refused: the token is not for our Cloud project
	ReasonWrongPackage  = "wrong_package"           // not a configured package, or the token is for another
	ReasonWrongNonce    = "wrong_nonce"             // neither requestHash nor nonce is our challenge
	ReasonStale         = "stale_token"             // timestampMillis too old or in the future
	ReasonNotRecognized = "app_not_recognized"      // appRecognitionVerdict is not PLAY_RECOGNIZED
	ReasonWrongCert     = "wrong_certificate"       // signing certificate digest not allowed
	ReasonDeviceVerdict = "device_integrity_failed" // the device does not meet the required level
	ReasonUnavailable   = "integrity_unavailable"   // Google's API failed or its quota ran out; retry later
)

// MaxTokenBytes bounds a token; genuine ones are a few KB.
const MaxTokenBytes = 16 << 10

const (
	defaultMaxTokenAge  = 5 * time.Minute
	futureSkewAllowance = time.Minute // the device's clock may run ahead
)

// Error is a failed check; Retryable when Google could not be asked.
type Error = refusal.Error

func fail(reason, format string, args ...any) error {
	return refusal.New("play integrity", reason, format, args...)
}

// Policy is what one source accepts.
type Policy struct {
	PackageNames []string
	// CertDigests are the app signing certificates' SHA-256 digests,
	// base64url as Play reports them (Play Console, App integrity).
	CertDigests []string
	// DeviceVerdict is the level the device must meet: MeetsDevice unless set.
	DeviceVerdict string
	MaxAge        time.Duration // freshness of timestampMillis; 0: 5 minutes
}

// Check reports a policy that cannot accept anything.
func (p Policy) Check() error {
	switch {
	case len(p.PackageNames) == 0:
		return errors.New("no package names")
	case len(p.CertDigests) == 0:
		return errors.New("no certificate digests")
	}
	switch p.DeviceVerdict {
	case "", MeetsBasic, MeetsDevice, MeetsStrong:
		return nil
	}
	return fmt.Errorf("device verdict %q is not %s, %s or %s", p.DeviceVerdict, MeetsBasic, MeetsDevice, MeetsStrong)
}

// Verdict is what a passing token says.
type Verdict struct {
	PackageName string
	CertDigest  string
	Device      []string
	VersionCode int64
}

// Verifier decodes tokens with the Play Integrity API.
type Verifier struct {
	api *decoder
	Now func() time.Time
}

// New returns a Verifier. With the zero Config the client uses the
// function's service account (on Google Cloud); on AWS, Config carries a
// service account key; the local stack and tests point Config.Endpoint at a
// stand-in.
func New(_ context.Context, cfg Config) (*Verifier, error) {
	api, err := newDecoder(cfg)
	if err != nil {
		return nil, fmt.Errorf("play integrity client: %w", err)
	}
	return &Verifier{api: api, Now: time.Now}, nil
}

// RequestHash is the requestHash an app sets for challenge.
func RequestHash(challenge string) string {
	h := sha256.Sum256([]byte(challenge))
	return hex.EncodeToString(h[:])
}

// Verify decodes token, sent by packageName for our challenge, and checks
// it against pol. Checks that need no call to Google come first
// (CheckToken), so a wrong package or a token of the wrong shape costs
// nothing of the daily decode quota.
func (v *Verifier) Verify(ctx context.Context, packageName, token, challenge string, pol Policy) (*Verdict, error) {
	if err := CheckToken(packageName, token, pol); err != nil {
		return nil, err
	}
	p, err := v.api.decode(ctx, packageName, token)
	if err != nil {
		return nil, classify(err)
	}
	if p == nil || p.RequestDetails == nil || p.AppIntegrity == nil || p.DeviceIntegrity == nil {
		return nil, fail(ReasonMalformed, "decoded payload lacks request, app or device details")
	}
	rd, app := p.RequestDetails, p.AppIntegrity
	if rd.RequestPackageName != packageName {
		return nil, fail(ReasonWrongPackage, "token was requested by %q", rd.RequestPackageName)
	}
	if rd.RequestHash != RequestHash(challenge) && rd.Nonce != challenge {
		return nil, fail(ReasonWrongNonce, "neither requestHash nor nonce is this exchange's challenge")
	}
	now := v.Now()
	maxAge := pol.MaxAge
	if maxAge <= 0 {
		maxAge = defaultMaxTokenAge
	}
	if age := now.Sub(time.UnixMilli(rd.TimestampMillis)); age > maxAge || age < -futureSkewAllowance {
		return nil, fail(ReasonStale, "token made %s ago; at most %s", age.Round(time.Second), maxAge)
	}
	if app.AppRecognitionVerdict != PlayRecognized {
		return nil, fail(ReasonNotRecognized, "app verdict is %q", app.AppRecognitionVerdict)
	}
	if app.PackageName != packageName {
		return nil, fail(ReasonWrongPackage, "token attests package %q", app.PackageName)
	}
	digest := ""
	for _, d := range app.CertificateSha256Digest {
		if slices.Contains(pol.CertDigests, d) {
			digest = d
		}
	}
	if digest == "" {
		return nil, fail(ReasonWrongCert, "signing certificate %v is not allowed", app.CertificateSha256Digest)
	}
	want := pol.DeviceVerdict
	if want == "" {
		want = MeetsDevice
	}
	if !slices.Contains(p.DeviceIntegrity.DeviceRecognitionVerdict, want) {
		return nil, fail(ReasonDeviceVerdict, "device verdict %v lacks %s", p.DeviceIntegrity.DeviceRecognitionVerdict, want)
	}
	return &Verdict{PackageName: packageName, CertDigest: digest, Device: p.DeviceIntegrity.DeviceRecognitionVerdict,
		VersionCode: app.VersionCode}, nil
}

// classify maps Google's answer: 400 is a token it cannot decode, 403 one
// for another Cloud project (or an app not linked to ours), 429 and 5xx
// are retryable.
func classify(err error) error {
	var ge *apiError
	if errors.As(err, &ge) {
		switch ge.Code {
		case http.StatusBadRequest:
			return fail(ReasonMalformed, "Google could not decode the token: %s", ge.Message)
		case http.StatusForbidden:
			return fail(ReasonOtherProject, "Google refused to decode the token for this project: %s", ge.Message)
		case http.StatusNotFound:
			return fail(ReasonWrongPackage, "Google does not know the package: %s", ge.Message)
		}
	}
	return refusal.Unavailable("play integrity", ReasonUnavailable, "%v", err)
}
