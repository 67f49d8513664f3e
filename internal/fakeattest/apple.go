// Package fakeattest stands in for the platforms' attestation services on
// the local stack and in tests: a test App Attest root CA that issues
// attestations as Apple's does, devices that sign assertions, and a Play
// Integrity decode server speaking the real REST API.
//
// Nothing here is trusted in production: the exchange trusts Apple's real
// root unless ATTEST_APPLE_ROOT_PEM names another, and calls Google unless
// PLAYINTEGRITY_ENDPOINT points elsewhere. The test root's private key is
// in this package on purpose, so `eventrelay attest` can mint attestations
// the local stack accepts.
package fakeattest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/fxamacker/cbor/v2"
)

//go:embed testroot.pem
var testRootPEM []byte

//go:embed testroot-key.pem
var testRootKeyPEM []byte

// TestRootPEM is the local stack's App Attest root certificate.
func TestRootPEM() []byte { return append([]byte(nil), testRootPEM...) }

// Apple issues App Attest attestations under a root CA, through an
// intermediate, as Apple's service does.
type Apple struct {
	root     *x509.Certificate
	rootKey  *ecdsa.PrivateKey
	inter    *x509.Certificate
	interKey *ecdsa.PrivateKey
}

// NewApple returns an issuer under the embedded test root.
func NewApple() (*Apple, error) {
	cb, _ := pem.Decode(testRootPEM)
	kb, _ := pem.Decode(testRootKeyPEM)
	if cb == nil || kb == nil {
		return nil, errors.New("fakeattest: embedded test root does not decode")
	}
	root, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, err
	}
	return newApple(root, k.(*ecdsa.PrivateKey))
}

// NewAppleWithOwnRoot returns an issuer under a fresh root of its own: an
// attacker's CA, as far as the exchange is concerned.
func NewAppleWithOwnRoot() (*Apple, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Not Apple App Attestation Root CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	root, _ := x509.ParseCertificate(der)
	a, err := newApple(root, key)
	return a, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), err
}

func newApple(root *x509.Certificate, rootKey *ecdsa.PrivateKey) (*Apple, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "Test App Attestation CA 1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, root, &key.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	inter, err := x509.ParseCertificate(der)
	return &Apple{root: root, rootKey: rootKey, inter: inter, interKey: key}, err
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	return n
}

// Device is one app install's App Attest key.
type Device struct {
	Key     *ecdsa.PrivateKey
	KeyID   []byte // SHA-256 of the uncompressed public point
	AppID   string // "<team id>.<bundle id>"
	Counter uint32
}

// NewDevice makes a key for appID, as DCAppAttestService.generateKey does.
func NewDevice(appID string) (*Device, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	point, _ := key.PublicKey.Bytes()
	id := sha256.Sum256(point)
	return &Device{Key: key, KeyID: id[:], AppID: appID}, nil
}

// Attestation is the parts of an attestation object; Tamper may change
// them before they are assembled, to build each kind of bad object.
type Attestation struct {
	Fmt          string
	RPAppID      string // hashed into the RP ID hash
	Counter      uint32
	AAGUID       []byte
	CredentialID []byte
	Nonce        []byte // nil: SHA-256(authData ‖ clientDataHash)
	LeafKey      *ecdsa.PublicKey
	Expired      bool // the credential certificate's validity ended
}

// Development and production AAGUIDs.
var (
	AAGUIDProduction  = []byte("appattest\x00\x00\x00\x00\x00\x00\x00")
	AAGUIDDevelopment = []byte("appattestdevelop")
)

// Attest builds the attestation object DCAppAttestService.attestKey would
// return for d with clientDataHash, in environment aaguid; tamper (may be
// nil) edits the parts first.
func (a *Apple) Attest(d *Device, clientDataHash []byte, aaguid []byte, tamper func(*Attestation)) ([]byte, error) {
	p := Attestation{Fmt: "apple-appattest", RPAppID: d.AppID, AAGUID: aaguid, CredentialID: d.KeyID, LeafKey: &d.Key.PublicKey}
	if tamper != nil {
		tamper(&p)
	}
	rp := sha256.Sum256([]byte(p.RPAppID))
	auth := append([]byte{}, rp[:]...)
	auth = append(auth, 0x40) // flags: attested credential data
	auth = binary.BigEndian.AppendUint32(auth, p.Counter)
	auth = append(auth, p.AAGUID...)
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(p.CredentialID)))
	auth = append(auth, p.CredentialID...)
	auth = append(auth, coseKey(p.LeafKey)...)
	nonce := p.Nonce
	if nonce == nil {
		n := sha256.Sum256(append(append([]byte{}, auth...), clientDataHash...))
		nonce = n[:]
	}
	ext, err := asn1.Marshal(struct {
		Nonce []byte `asn1:"tag:1,explicit"`
	}{nonce})
	if err != nil {
		return nil, err
	}
	notAfter := time.Now().Add(72 * time.Hour)
	if p.Expired {
		notAfter = time.Now().Add(-time.Minute)
	}
	keyHex := fmt.Sprintf("%x", d.KeyID)
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: keyHex, OrganizationalUnit: []string{"AAA Certification"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		ExtraExtensions:       []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 8, 2}, Value: ext}}}
	leaf, err := x509.CreateCertificate(rand.Reader, tmpl, a.inter, p.LeafKey, a.interKey)
	if err != nil {
		return nil, err
	}
	return cbor.Marshal(map[string]any{
		"fmt":      p.Fmt,
		"attStmt":  map[string]any{"x5c": [][]byte{leaf, a.inter.Raw}, "receipt": []byte("test receipt")},
		"authData": auth,
	})
}

// coseKey is the EC2 P-256 COSE key the authenticator data carries.
func coseKey(k *ecdsa.PublicKey) []byte {
	point, _ := k.Bytes()
	b, _ := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: point[1:33], -3: point[33:65]})
	return b
}

// Assertion is the parts of an assertion; Tamper may change them.
type Assertion struct {
	RPAppID string
	Counter uint32
	Key     *ecdsa.PrivateKey
}

// Assert builds the assertion DCAppAttestService.generateAssertion would
// return over SHA-256(clientData), with the next counter; tamper may be nil.
func (d *Device) Assert(clientData []byte, tamper func(*Assertion)) ([]byte, error) {
	d.Counter++
	p := Assertion{RPAppID: d.AppID, Counter: d.Counter, Key: d.Key}
	if tamper != nil {
		tamper(&p)
	}
	rp := sha256.Sum256([]byte(p.RPAppID))
	auth := append(append([]byte{}, rp[:]...), 0x00)
	auth = binary.BigEndian.AppendUint32(auth, p.Counter)
	cdh := sha256.Sum256(clientData)
	nonce := sha256.Sum256(append(append([]byte{}, auth...), cdh[:]...))
	digest := sha256.Sum256(nonce[:])
	sig, err := ecdsa.SignASN1(rand.Reader, p.Key, digest[:])
	if err != nil {
		return nil, err
	}
	return cbor.Marshal(map[string]any{"signature": sig, "authenticatorData": auth})
}
