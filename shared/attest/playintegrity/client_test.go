package playintegrity

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/fakeattest"
)

// decodeServer is the local decode server, recording the Authorization
// header of each call.
func decodeServer(t *testing.T) (*httptest.Server, *fakeattest.Play, func() []string) {
	t.Helper()
	play := fakeattest.NewPlay(project)
	var mu sync.Mutex
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		play.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, play, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), auths...) }
}

// On AWS: a service account key, tokens by the JWT bearer flow (RFC 7523)
// from the key's token_uri, sent as a bearer token with the decode call.
func TestServiceAccountKey(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	var claims map[string]any
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		parts := strings.Split(r.PostForm.Get("assertion"), ".")
		if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || len(parts) != 3 {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		if err := json.Unmarshal(raw, &claims); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"sa-token","token_type":"Bearer","expires_in":3600}`))
	}))
	defer tokenSrv.Close()
	key, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "verifier@acme.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "private_key_id": "k1",
		"token_uri": tokenSrv.URL})
	srv, play, auths := decodeServer(t)
	v, err := New(context.Background(), Config{Endpoint: srv.URL + "/", CredentialsJSON: key})
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return now }
	if _, err := v.Verify(context.Background(), pkg, play.Mint(project, good()), challenge, policy); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if a := auths(); len(a) != 1 || a[0] != "Bearer sa-token" {
		t.Errorf("decode calls' Authorization: %q", a)
	}
	if claims["iss"] != "verifier@acme.iam.gserviceaccount.com" || claims["scope"] != apiScope || claims["aud"] != tokenSrv.URL {
		t.Errorf("JWT claims %v", claims)
	}
	if _, err := New(context.Background(), Config{CredentialsJSON: []byte(`{"type":"authorized_user"}`)}); err == nil {
		t.Error("a key that is not a service account's was accepted")
	}
}

// On Google Cloud: the function's own service account, its token from the
// metadata server (GCE_METADATA_HOST), fetched once and reused.
func TestMetadataServerToken(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	md := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata-Flavor") != "Google" || r.URL.Path != "/computeMetadata/v1/instance/service-accounts/default/token" ||
			r.URL.Query().Get("scopes") != apiScope {
			http.Error(w, "bad metadata request", http.StatusForbidden)
			return
		}
		mu.Lock()
		calls++
		mu.Unlock()
		w.Write([]byte(`{"access_token":"md-token","expires_in":3599,"token_type":"Bearer"}`))
	}))
	defer md.Close()
	t.Setenv("GCE_METADATA_HOST", strings.TrimPrefix(md.URL, "http://"))
	v, err := New(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if v.api.endpoint != apiEndpoint {
		t.Fatalf("endpoint %q, want Google's", v.api.endpoint)
	}
	srv, play, auths := decodeServer(t)
	v.api.endpoint = srv.URL + "/"
	v.Now = func() time.Time { return now }
	for range 2 {
		if _, err := v.Verify(context.Background(), pkg, play.Mint(project, good()), challenge, policy); err != nil {
			t.Fatalf("verify: %v", err)
		}
	}
	if a := auths(); len(a) != 2 || a[0] != "Bearer md-token" || a[1] != "Bearer md-token" {
		t.Errorf("decode calls' Authorization: %q", a)
	}
	if calls != 1 {
		t.Errorf("%d metadata calls for two decodes, want 1 (the token is reused)", calls)
	}
}
