package attest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// A challenge is signed, not stored: issuing one writes nothing, so an
// anonymous caller asking for challenges costs a MAC, not a write to the
// state store. It reads, base64url without padding,
//
//	version(1) | expires unix seconds(8) | random(16) | source(8) | client(8) | tag(16)
//
// source and client being the first 8 bytes of the SHA-256 of the source
// and of the client's key (shared/clientip), tag a credential.Keys.Tag of
// everything before it. It is spent, once, in the state store
// (SpendChallenge) only after every check that costs nothing passed.
const (
	challengeVersion = 1
	challengeBody    = 1 + 8 + 16 + 8 + 8
	challengeTagLen  = 16
	challengeLen     = challengeBody + challengeTagLen
	challengePurpose = "attest challenge"
)

// ChallengeChars is the length of every challenge the exchange issues.
var ChallengeChars = base64.RawURLEncoding.EncodedLen(challengeLen)

func short(v string) []byte {
	h := sha256.Sum256([]byte(v))
	return h[:8]
}

// issueChallenge returns a new challenge for source's app at client.
func (s *Service) issueChallenge(ctx context.Context, source, client string) (string, time.Time, error) {
	exp := s.d.Now().Add(s.cfg.ChallengeTTL).Truncate(time.Second)
	b := make([]byte, challengeBody, challengeLen)
	b[0] = challengeVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(exp.Unix()))
	rand.Read(b[9:25])
	copy(b[25:33], short(source))
	copy(b[33:41], short(client))
	tag, err := s.d.Keys.Tag(ctx, challengePurpose, b)
	if err != nil {
		return "", time.Time{}, err
	}
	return base64.RawURLEncoding.EncodeToString(append(b, tag[:challengeTagLen]...)), exp, nil
}

// openChallenge checks a challenge's signature, expiry, source and client,
// costing no call to anything; it returns when the challenge expires.
func (s *Service) openChallenge(ctx context.Context, value, source, client string) (time.Time, *failure) {
	if len(value) != ChallengeChars {
		return time.Time{}, refuse(ReasonChallengeInvalid, "the challenge was not issued by this exchange")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(value)
	if err != nil || len(b) != challengeLen || b[0] != challengeVersion {
		return time.Time{}, refuse(ReasonChallengeInvalid, "the challenge was not issued by this exchange")
	}
	ok, err := s.d.Keys.CheckTag(ctx, challengePurpose, b[:challengeBody], b[challengeBody:])
	switch {
	case err != nil:
		return time.Time{}, unavailable("credential keys: %v", err)
	case !ok:
		return time.Time{}, refuse(ReasonChallengeInvalid, "the challenge was not issued by this exchange")
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(b[1:9])), 0)
	switch {
	case !s.d.Now().Before(exp):
		return time.Time{}, refuse(ReasonChallengeInvalid, "the challenge has expired")
	case string(b[25:33]) != string(short(source)):
		return time.Time{}, refuse(ReasonChallengeSource, "the challenge was issued for another source")
	case string(b[33:41]) != string(short(client)):
		return time.Time{}, refuse(ReasonChallengeClient, "the challenge was issued to another client address; ask for a new one")
	}
	return exp, nil
}

// spendChallenge uses the challenge up, in the state store shared by every
// instance: a second use anywhere is refused.
func (s *Service) spendChallenge(ctx context.Context, value string, exp time.Time) *failure {
	err := s.d.State.SpendChallenge(ctx, value, exp)
	switch {
	case errors.Is(err, ledger.ErrExists):
		return refuse(ReasonChallengeInvalid, "the challenge was already used")
	case err != nil:
		return unavailable("challenge store: %v", err)
	}
	return nil
}
