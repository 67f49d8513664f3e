package fakeattest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"time"
)

//go:embed appcheck-test-key.pem
var appCheckKeyPEM []byte

// AppCheck stands in for Firebase App Check: it serves a JWKS as
// https://firebaseappcheck.googleapis.com/v1/jwks does and mints tokens as
// the App Check SDK gets them. Its key is embedded, so the local stack and
// `eventrelay attest` agree on it; never trust it anywhere else.
type AppCheck struct {
	key *rsa.PrivateKey
	Kid string
}

// NewAppCheck returns the stand-in with the embedded test key.
func NewAppCheck() (*AppCheck, error) {
	b, _ := pem.Decode(appCheckKeyPEM)
	k, err := parseRSA(b)
	if err != nil {
		return nil, err
	}
	return &AppCheck{key: k, Kid: "eventrelay-local-1"}, nil
}

// NewAppCheckWithOwnKey is an App Check of another, untrusted key with the
// same key id: its tokens must not verify.
func NewAppCheckWithOwnKey() (*AppCheck, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	return &AppCheck{key: k, Kid: "eventrelay-local-1"}, err
}

func parseRSA(b *pem.Block) (*rsa.PrivateKey, error) {
	if b == nil {
		return nil, errors.New("fakeattest: embedded App Check key does not decode")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	return k.(*rsa.PrivateKey), nil
}

// AppCheckClaims are an App Check token's claims.
type AppCheckClaims struct {
	Iss string   `json:"iss"`
	Sub string   `json:"sub"`
	Aud []string `json:"aud"`
	Exp int64    `json:"exp"`
	Iat int64    `json:"iat"`
}

// Claims are a genuine token's claims for app of project (number, id),
// valid for an hour from now.
func (a *AppCheck) Claims(projectNumber, projectID, app string) AppCheckClaims {
	now := time.Now()
	return AppCheckClaims{Iss: "https://firebaseappcheck.googleapis.com/" + projectNumber, Sub: app,
		Aud: []string{"projects/" + projectNumber, "projects/" + projectID}, Iat: now.Unix(), Exp: now.Add(time.Hour).Unix()}
}

// Mint signs claims as an RS256 JWT with header alg, typ, kid.
func (a *AppCheck) Mint(c AppCheckClaims) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": a.Kid})
	p, _ := json.Marshal(c)
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	d := sha256.Sum256([]byte(signing))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, a.key, crypto.SHA256, d[:])
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// ServeHTTP serves the JWKS.
func (a *AppCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pub := a.key.PublicKey
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": a.Kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}
