package playintegrity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"eventrelay.dev/eventrelay/shared/settings"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// The client is plain net/http for the API's one method, not Google's
// generated client: that one brings Google's whole transport (gRPC, its
// auth library) into every binary, the Lambda bootstrap included, which
// needs Play Integrity for Android attestation on AWS too.

const (
	apiEndpoint = "https://playintegrity.googleapis.com/"
	apiScope    = "https://www.googleapis.com/auth/playintegrity"
	tokenURL    = "https://oauth2.googleapis.com/token"
)

// Config says how the Verifier reaches Google. The zero value is the
// deployed default on Google Cloud: the function's service account, its
// tokens from the metadata server.
type Config struct {
	// Endpoint replaces the API's base URL (ending in "/"), e.g. a local
	// decode server; without CredentialsJSON nothing authenticates to it.
	Endpoint string
	// CredentialsJSON is a service account key (on AWS): access tokens come
	// from Google's token endpoint by the JWT flow.
	CredentialsJSON []byte
	// HTTPClient makes the calls; nil: one with a 10 s timeout.
	HTTPClient *http.Client
}

// decoder is the decodeIntegrityToken call.
type decoder struct {
	endpoint string
	http     *http.Client
	tokens   oauth2.TokenSource // nil: no credentials (a local endpoint)
}

func newDecoder(cfg Config) (*decoder, error) {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	d := &decoder{endpoint: apiEndpoint, http: hc}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	if cfg.Endpoint != "" {
		d.endpoint = cfg.Endpoint
	}
	switch {
	case len(cfg.CredentialsJSON) > 0:
		var key struct {
			Type         string `json:"type"`
			ClientEmail  string `json:"client_email"`
			PrivateKey   string `json:"private_key"`
			PrivateKeyID string `json:"private_key_id"`
			TokenURI     string `json:"token_uri"`
		}
		if err := json.Unmarshal(cfg.CredentialsJSON, &key); err != nil {
			return nil, fmt.Errorf("service account key: %w", err)
		}
		if key.Type != "service_account" || key.ClientEmail == "" || key.PrivateKey == "" {
			return nil, errors.New("service account key: want type service_account with client_email and private_key")
		}
		if key.TokenURI == "" {
			key.TokenURI = tokenURL
		}
		jc := &jwt.Config{Email: key.ClientEmail, PrivateKey: []byte(key.PrivateKey), PrivateKeyID: key.PrivateKeyID,
			Scopes: []string{apiScope}, TokenURL: key.TokenURI}
		d.tokens = jc.TokenSource(ctx)
	case cfg.Endpoint == "":
		d.tokens = oauth2.ReuseTokenSource(nil, metadataTokens{http: hc})
	}
	return d, nil
}

// apiError is Google's error document.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("googleapi: Error %d: %s", e.Code, e.Message)
}

// The decoded payload, as far as the checks read it (int64 fields are JSON
// strings in Google's APIs).
type payload struct {
	RequestDetails *struct {
		RequestPackageName string `json:"requestPackageName"`
		Nonce              string `json:"nonce"`
		RequestHash        string `json:"requestHash"`
		TimestampMillis    int64  `json:"timestampMillis,string"`
	} `json:"requestDetails"`
	AppIntegrity *struct {
		AppRecognitionVerdict   string   `json:"appRecognitionVerdict"`
		PackageName             string   `json:"packageName"`
		CertificateSha256Digest []string `json:"certificateSha256Digest"`
		VersionCode             int64    `json:"versionCode,string"`
	} `json:"appIntegrity"`
	DeviceIntegrity *struct {
		DeviceRecognitionVerdict []string `json:"deviceRecognitionVerdict"`
	} `json:"deviceIntegrity"`
}

// decode is POST v1/{packageName}:decodeIntegrityToken.
func (d *decoder) decode(ctx context.Context, packageName, token string) (*payload, error) {
	body, _ := json.Marshal(map[string]string{"integrityToken": token})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		d.endpoint+"v1/"+url.PathEscape(packageName)+":decodeIntegrityToken", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if d.tokens != nil {
		tok, err := d.tokens.Token()
		if err != nil {
			return nil, fmt.Errorf("access token: %w", err)
		}
		tok.SetAuthHeader(req)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var doc struct {
			Error *apiError `json:"error"`
		}
		if json.Unmarshal(raw, &doc) == nil && doc.Error != nil {
			if doc.Error.Code == 0 {
				doc.Error.Code = resp.StatusCode
			}
			return nil, doc.Error
		}
		return nil, &apiError{Code: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
	}
	var out struct {
		TokenPayloadExternal *payload `json:"tokenPayloadExternal"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decodeIntegrityToken answer: %w", err)
	}
	if out.TokenPayloadExternal == nil {
		return &payload{}, nil
	}
	return out.TokenPayloadExternal, nil
}

// metadataTokens are the function's own service account's access tokens,
// from the metadata server (GCE_METADATA_HOST overrides its address, as in
// Google's libraries).
type metadataTokens struct{ http *http.Client }

func (m metadataTokens) Token() (*oauth2.Token, error) {
	host := settings.GCEMetadataHost.Get(settings.FromOS())
	req, err := http.NewRequest(http.MethodGet, "http://"+host+
		"/computeMetadata/v1/instance/service-accounts/default/token?scopes="+url.QueryEscape(apiScope), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Metadata-Flavor", "Google")
	resp, err := m.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metadata server: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metadata server: %s", resp.Status)
	}
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&t); err != nil || t.AccessToken == "" {
		return nil, fmt.Errorf("metadata server: no access token (%v)", err)
	}
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType,
		Expiry: time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)}, nil
}
