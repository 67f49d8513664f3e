// Package appattest verifies Apple App Attest attestations and assertions,
// following Apple's "Validating apps that connect to your server".
//
// An attestation (once per install and key) proves that a key pair lives in
// the Secure Enclave of a genuine Apple device and belongs to our app: its
// certificate chain ends at Apple's App Attestation Root CA, the leaf
// certificate commits to our one-time challenge, and the authenticator data
// names our app id. An assertion (on later exchanges) is a signature with
// that key over fresh client data, with a counter that only goes up.
//
// The package is pure: it checks bytes and returns what to store. The
// exchange keeps the challenges, keys and counters (shared/ledger).
package appattest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"

	"eventrelay.dev/eventrelay/shared/attest/refusal"
)

// AppleRoot returns a pool holding only Apple's App Attestation Root CA.
func AppleRoot() *x509.CertPool {
	pool, err := PoolFromPEM([]byte(appleRootPEM))
	if err != nil {
		panic("appattest: the embedded Apple root does not parse: " + err.Error())
	}
	return pool
}

// PoolFromPEM reads one or more PEM certificates (a test root, in tests and
// on the local stack).
func PoolFromPEM(p []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for {
		var block *pem.Block
		block, p = pem.Decode(p)
		if block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("root certificate: %w", err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return pool, nil
}

// Environment is the App Attest environment the key was made in.
type Environment string

// Environments, and the AAGUIDs that stand for them in the authenticator data.
const (
	Production  Environment = "production"
	Development Environment = "development"
)

var (
	aaguidProduction  = []byte("appattest\x00\x00\x00\x00\x00\x00\x00")
	aaguidDevelopment = []byte("appattestdevelop")
)

// Reasons, one per check; safe to return to the caller.
const (
	ReasonMalformed      = "malformed"          // not the CBOR shape Apple sends
	ReasonTooLarge       = "too_large"          // bigger than any genuine object
	ReasonWrongFormat    = "wrong_format"       // fmt is not apple-appattest
	ReasonBadChain       = "bad_chain"          // no chain to the trusted root
	ReasonWrongNonce     = "wrong_nonce"        // the certificate does not commit to our challenge
	ReasonWrongKeyID     = "wrong_key_id"       // key id is not the hash of the certified key
	ReasonWrongRPID      = "wrong_rp_id"        // authenticator data is for another app id
	ReasonBadCounter     = "bad_counter"        // attestation counter is not 0
	ReasonWrongEnv       = "wrong_environment"  // AAGUID is not the configured environment
	ReasonBadSignature   = "bad_signature"      // assertion signature does not verify
	ReasonCounterReplay  = "counter_not_higher" // assertion counter did not go up
	ReasonUnsupportedKey = "unsupported_key"    // not a P-256 key
)

// Error is a failed check.
type Error = refusal.Error

func fail(reason, format string, args ...any) error {
	return refusal.New("app attest", reason, format, args...)
}

// Size limits: a genuine attestation is about 5-6 KB (two certificates and
// a receipt), an assertion about 150 bytes.
const (
	MaxAttestationBytes = 16 << 10
	MaxAssertionBytes   = 1 << 10
)

// decMode refuses what Apple never sends: indefinite lengths, duplicate
// keys, deep nesting, long arrays; so a hostile object costs no more than
// its size.
var decMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		MaxNestedLevels:  4,
		MaxArrayElements: 16,
		MaxMapPairs:      16,
		TagsMd:           cbor.TagsForbidden,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

type attestationObject struct {
	Fmt     string `cbor:"fmt"`
	AttStmt struct {
		X5C     [][]byte `cbor:"x5c"`
		Receipt []byte   `cbor:"receipt"`
	} `cbor:"attStmt"`
	AuthData []byte `cbor:"authData"`
}

type assertionObject struct {
	Signature         []byte `cbor:"signature"`
	AuthenticatorData []byte `cbor:"authenticatorData"`
}

// authData is the part of WebAuthn authenticator data App Attest uses.
type authData struct {
	rpIDHash     []byte
	counter      uint32
	aaguid       []byte // attestation only
	credentialID []byte // attestation only
}

// parseAuthData reads rpIdHash(32) flags(1) counter(4) and, for an
// attestation, aaguid(16) credentialIdLength(2) credentialId; what follows
// (the COSE key, extensions) is not needed: the key comes from the
// certificate.
func parseAuthData(b []byte, attested bool) (authData, error) {
	if len(b) < 37 {
		return authData{}, fail(ReasonMalformed, "authenticator data is %d bytes, shorter than 37", len(b))
	}
	a := authData{rpIDHash: b[:32], counter: binary.BigEndian.Uint32(b[33:37])}
	if !attested {
		return a, nil
	}
	if len(b) < 55 {
		return authData{}, fail(ReasonMalformed, "attested authenticator data is %d bytes, shorter than 55", len(b))
	}
	a.aaguid = b[37:53]
	n := int(binary.BigEndian.Uint16(b[53:55]))
	if len(b) < 55+n {
		return authData{}, fail(ReasonMalformed, "credential id of %d bytes runs past the authenticator data", n)
	}
	a.credentialID = b[55 : 55+n]
	return a, nil
}

// nonceOID is Apple's extension in the credential certificate holding
// SHA-256(authData ‖ clientDataHash).
var nonceOID = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 8, 2}

// Verifier checks attestations against a set of trusted roots.
type Verifier struct {
	Roots *x509.CertPool   // nil: Apple's App Attestation Root CA
	Now   func() time.Time // the time the chain must be valid at; nil: now
}

// Attested is what a verified attestation yields: store it by key id.
type Attested struct {
	KeyID     []byte // SHA-256 of the public key, as the app names it
	PublicKey []byte // PKIX DER of the P-256 key
	AppID     string
	Env       Environment
	Receipt   []byte // for Apple's fraud metric; kept, not checked here
}

// Attest verifies an attestation object made by the key keyID for one of
// appIDs ("<team id>.<bundle id>") in environment env. clientDataHash is
// what the app passed to attestKey: SHA-256 of our one-time challenge
// (ClientDataHash), so the certificate commits to that challenge.
func (v *Verifier) Attest(object, clientDataHash, keyID []byte, appIDs []string, env Environment) (*Attested, error) {
	if len(object) > MaxAttestationBytes {
		return nil, fail(ReasonTooLarge, "attestation is %d bytes; at most %d", len(object), MaxAttestationBytes)
	}
	var obj attestationObject
	if err := decMode.Unmarshal(object, &obj); err != nil {
		return nil, fail(ReasonMalformed, "attestation CBOR: %v", err)
	}
	if obj.Fmt != "apple-appattest" {
		return nil, fail(ReasonWrongFormat, "fmt is %q", obj.Fmt)
	}
	if len(obj.AttStmt.X5C) < 2 {
		return nil, fail(ReasonMalformed, "x5c holds %d certificates; want the credential and intermediate certificates", len(obj.AttStmt.X5C))
	}
	ad, err := parseAuthData(obj.AuthData, true)
	if err != nil {
		return nil, err
	}
	// The cheap checks of the authenticator data first, so a forged object
	// costs no chain verification: our app id, a fresh key (counter 0) of
	// the configured environment, named by the key id.
	appID := ""
	for _, id := range appIDs {
		h := sha256.Sum256([]byte(id))
		if bytes.Equal(h[:], ad.rpIDHash) {
			appID = id
		}
	}
	if appID == "" {
		return nil, fail(ReasonWrongRPID, "the RP ID hash is not that of any configured app id")
	}
	if ad.counter != 0 {
		return nil, fail(ReasonBadCounter, "attestation counter is %d; a new key's is 0", ad.counter)
	}
	wantAAGUID := aaguidProduction
	if env == Development {
		wantAAGUID = aaguidDevelopment
	}
	if !bytes.Equal(ad.aaguid, wantAAGUID) {
		return nil, fail(ReasonWrongEnv, "AAGUID %q is not the %s environment's", bytes.TrimRight(ad.aaguid, "\x00"), envName(env))
	}
	if !bytes.Equal(ad.credentialID, keyID) {
		return nil, fail(ReasonWrongKeyID, "credential id in the authenticator data is not the key id")
	}
	// The chain, to our root, valid now.
	certs := make([]*x509.Certificate, len(obj.AttStmt.X5C))
	for i, der := range obj.AttStmt.X5C {
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			return nil, fail(ReasonBadChain, "certificate %d: %v", i, err)
		}
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	roots, now := v.Roots, time.Now
	if roots == nil {
		roots = AppleRoot()
	}
	if v.Now != nil {
		now = v.Now
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now(),
		// The leaf's extended key usage is Apple's own OID, which Go does
		// not know; the root is dedicated to App Attest, so any usage is fine.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fail(ReasonBadChain, "%v", err)
	}
	// The certificate commits to authData and our challenge.
	want := sha256.Sum256(append(append([]byte{}, obj.AuthData...), clientDataHash...))
	got, err := certNonce(certs[0])
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(got, want[:]) {
		return nil, fail(ReasonWrongNonce, "the credential certificate's nonce does not match this challenge")
	}
	// The key id is the hash of the certified key.
	pub, ok := certs[0].PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fail(ReasonUnsupportedKey, "credential certificate key is %T", certs[0].PublicKey)
	}
	point, err := pub.Bytes()
	if err != nil {
		return nil, fail(ReasonUnsupportedKey, "%v", err)
	}
	sum := sha256.Sum256(point)
	if !bytes.Equal(sum[:], keyID) {
		return nil, fail(ReasonWrongKeyID, "key id is not the SHA-256 of the certified public key")
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fail(ReasonUnsupportedKey, "%v", err)
	}
	return &Attested{KeyID: keyID, PublicKey: der, AppID: appID, Env: env, Receipt: obj.AttStmt.Receipt}, nil
}

// ClientDataHash is what the app hashes a challenge into before attestKey.
func ClientDataHash(challenge []byte) []byte {
	h := sha256.Sum256(challenge)
	return h[:]
}

func envName(e Environment) string {
	if e == Development {
		return string(Development)
	}
	return string(Production)
}

// certNonce reads the nonce extension: SEQUENCE { [1] EXPLICIT OCTET STRING }.
func certNonce(c *x509.Certificate) ([]byte, error) {
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(nonceOID) {
			continue
		}
		var v struct {
			Nonce []byte `asn1:"tag:1,explicit"`
		}
		if rest, err := asn1.Unmarshal(ext.Value, &v); err != nil || len(rest) > 0 {
			return nil, fail(ReasonWrongNonce, "nonce extension does not parse")
		}
		return v.Nonce, nil
	}
	return nil, fail(ReasonWrongNonce, "credential certificate has no nonce extension")
}

// Assert verifies an assertion over clientData by the stored key pubDER for
// appID, whose last accepted counter was last; it returns the new counter,
// which the caller must store only if it is still higher than what is
// stored (the store's conditional write).
func Assert(assertion, clientData, pubDER []byte, appID string, last uint32) (uint32, error) {
	if len(assertion) > MaxAssertionBytes {
		return 0, fail(ReasonTooLarge, "assertion is %d bytes; at most %d", len(assertion), MaxAssertionBytes)
	}
	var obj assertionObject
	if err := decMode.Unmarshal(assertion, &obj); err != nil {
		return 0, fail(ReasonMalformed, "assertion CBOR: %v", err)
	}
	if len(obj.Signature) == 0 {
		return 0, fail(ReasonMalformed, "assertion has no signature")
	}
	ad, err := parseAuthData(obj.AuthenticatorData, false)
	if err != nil {
		return 0, err
	}
	key, err := x509.ParsePKIXPublicKey(pubDER)
	if err != nil {
		return 0, fmt.Errorf("stored public key: %w", err)
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return 0, fail(ReasonUnsupportedKey, "stored key is %T", key)
	}
	// The cheap checks first; then the signature.
	rp := sha256.Sum256([]byte(appID))
	if !bytes.Equal(ad.rpIDHash, rp[:]) {
		return 0, fail(ReasonWrongRPID, "assertion is for another app id")
	}
	if ad.counter <= last {
		return 0, fail(ReasonCounterReplay, "counter %d is not above the last accepted %d", ad.counter, last)
	}
	// The device signs the nonce as a message (ECDSA with SHA-256), so the
	// digest verified is SHA-256(nonce); checked by hand against a published
	// assertion captured on an iOS 14.4 device.
	clientDataHash := sha256.Sum256(clientData)
	nonce := sha256.Sum256(append(append([]byte{}, obj.AuthenticatorData...), clientDataHash[:]...))
	digest := sha256.Sum256(nonce[:])
	if !ecdsa.VerifyASN1(pub, digest[:], obj.Signature) {
		return 0, fail(ReasonBadSignature, "assertion signature does not verify with the stored key")
	}
	return ad.counter, nil
}
