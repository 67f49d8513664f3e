package fakeattest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	pi "google.golang.org/api/playintegrity/v1"
)

// Play is a stand-in for the Play Integrity API's decodeIntegrityToken
// (POST /v1/{packageName}:decodeIntegrityToken, JSON in and out, Google's
// error shape), for the real client with option.WithEndpoint.
//
// Its tokens are opaque to the app as Google's are, and have their shape: a
// compact JWE (header {"alg":"A256KW","enc":"A256GCM"}, a 40-byte wrapped
// key, a 12-byte IV, the ciphertext, a 16-byte tag), here with the verdict
// JSON as the "ciphertext" and the tag an HMAC of it under this server's
// own key, so only tokens it minted decode. A token minted for another Cloud project
// is refused with 403, as Google refuses a token of an app not linked to
// the caller's project.
type Play struct {
	project string
	key     []byte

	mu    sync.Mutex
	calls int
}

// NewPlay returns a server for Cloud project.
func NewPlay(project string) *Play {
	key := make([]byte, 32)
	rand.Read(key)
	return &Play{project: project, key: key}
}

// NewPlayWithKey returns a server whose tokens are reproducible across
// processes sharing key (the local stack and `eventrelay attest`).
func NewPlayWithKey(project string, key []byte) *Play { return &Play{project: project, key: key} }

type fakeToken struct {
	Project string                   `json:"project"`
	Payload *pi.TokenPayloadExternal `json:"payload"`
}

// Mint returns the token the app would get from the Play Integrity client
// for payload, linked to Cloud project.
func (p *Play) Mint(project string, payload *pi.TokenPayloadExternal) string {
	b, _ := json.Marshal(fakeToken{Project: project, Payload: payload})
	body := base64.RawURLEncoding.EncodeToString(b)
	wrapped, iv := make([]byte, 40), make([]byte, 12)
	rand.Read(wrapped)
	rand.Read(iv)
	enc := base64.RawURLEncoding.EncodeToString
	return jweHeader + "." + enc(wrapped) + "." + enc(iv) + "." + body + "." + enc(p.mac(body))
}

var jweHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"A256KW","enc":"A256GCM"}`))

func (p *Play) mac(body string) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(body))
	return m.Sum(nil)[:16]
}

// Calls counts decode requests, as the daily quota would.
func (p *Play) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// ServeHTTP implements the decode method.
func (p *Play) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pkg, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v1/"), ":decodeIntegrityToken")
	if r.Method != http.MethodPost || !ok || pkg == "" || strings.Contains(pkg, "/") {
		googleError(w, http.StatusNotFound, "NOT_FOUND", "no such method "+r.Method+" "+r.URL.Path)
		return
	}
	p.mu.Lock()
	p.calls++
	p.mu.Unlock()
	var req pi.DecodeIntegrityTokenRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "request body: "+err.Error())
		return
	}
	parts := strings.Split(req.IntegrityToken, ".")
	if len(parts) != 5 || parts[0] != jweHeader {
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Integrity token cannot be decoded.")
		return
	}
	mac, err := base64.RawURLEncoding.DecodeString(parts[4])
	if err != nil || !hmac.Equal(mac, p.mac(parts[3])) {
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Integrity token cannot be decoded.")
		return
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[3])
	var tok fakeToken
	if err := json.Unmarshal(raw, &tok); err != nil || tok.Payload == nil {
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Integrity token cannot be decoded.")
		return
	}
	if tok.Project != p.project {
		googleError(w, http.StatusForbidden, "PERMISSION_DENIED",
			fmt.Sprintf("The caller does not have permission: the token belongs to project %s", tok.Project))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(w).Encode(pi.DecodeIntegrityTokenResponse{TokenPayloadExternal: tok.Payload})
}

func googleError(w http.ResponseWriter, code int, status, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
}

// PlayPayload is a passing verdict for package, certificate digest and
// request hash at timestamp ms; tests edit it into each failing one.
func PlayPayload(pkg, certDigest, requestHash string, ms int64) *pi.TokenPayloadExternal {
	return &pi.TokenPayloadExternal{
		RequestDetails: &pi.RequestDetails{RequestPackageName: pkg, RequestHash: requestHash, TimestampMillis: ms},
		AppIntegrity: &pi.AppIntegrity{AppRecognitionVerdict: "PLAY_RECOGNIZED", PackageName: pkg,
			CertificateSha256Digest: []string{certDigest}, VersionCode: 42},
		DeviceIntegrity: &pi.DeviceIntegrity{DeviceRecognitionVerdict: []string{"MEETS_BASIC_INTEGRITY", "MEETS_DEVICE_INTEGRITY"}},
		AccountDetails:  &pi.AccountDetails{AppLicensingVerdict: "LICENSED"},
	}
}
