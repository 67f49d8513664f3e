// Package attestclient plays an app's side of the attestation exchange
// against a running ingest (the local stack, usually), with the attestation
// stand-ins of internal/fakeattest: what `eventrelay attest` and the
// end-to-end tests do, and what an app does with the real platform APIs.
package attestclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	pi "google.golang.org/api/playintegrity/v1"

	"eventrelay.dev/eventrelay/functions/attest"
	"eventrelay.dev/eventrelay/internal/fakeattest"
	"eventrelay.dev/eventrelay/shared/attest/appattest"
	"eventrelay.dev/eventrelay/shared/attest/playintegrity"
)

// Client talks to an ingest URL for one source.
type Client struct {
	URL    string // ingest's base URL
	Source string
	HTTP   *http.Client // nil: http.DefaultClient
}

// Refused is the exchange's answer to a failed exchange.
type Refused struct {
	Status int
	Body   attest.ErrorBody
}

func (r *Refused) Error() string {
	return fmt.Sprintf("exchange refused (%d): %s: %s", r.Status, r.Body.Error, r.Body.Message)
}

func (c *Client) post(ctx context.Context, route string, req attest.Request, out any) error {
	req.Source = c.Source
	body, _ := json.Marshal(req)
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+attest.PathPrefix+"v1/"+route, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ref := &Refused{Status: resp.StatusCode}
		// A refusal whose body is not the JSON error is still a refusal:
		// Status says so, and Body stays empty.
		_ = json.NewDecoder(resp.Body).Decode(&ref.Body)
		return ref
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Challenge asks for a one-time challenge.
func (c *Client) Challenge(ctx context.Context) (string, error) {
	var out attest.ChallengeResponse
	if err := c.post(ctx, "challenge", attest.Request{}, &out); err != nil {
		return "", err
	}
	return out.Challenge, nil
}

// AppleAttest attests d's key, as an app's first exchange after
// generateKey: challenge, attestKey(SHA-256(challenge)), exchange.
func (c *Client) AppleAttest(ctx context.Context, apple *fakeattest.Apple, d *fakeattest.Device, aaguid []byte) (attest.CredentialResponse, error) {
	var out attest.CredentialResponse
	ch, err := c.Challenge(ctx)
	if err != nil {
		return out, err
	}
	obj, err := apple.Attest(d, appattest.ClientDataHash([]byte(ch)), aaguid, nil)
	if err != nil {
		return out, err
	}
	err = c.post(ctx, "apple/attest", attest.Request{Challenge: ch, KeyID: base64.StdEncoding.EncodeToString(d.KeyID),
		Attestation: base64.StdEncoding.EncodeToString(obj)}, &out)
	return out, err
}

// AppleAssert gets a new credential with an assertion of d's attested key:
// challenge, generateAssertion(challenge), exchange.
func (c *Client) AppleAssert(ctx context.Context, d *fakeattest.Device) (attest.CredentialResponse, error) {
	var out attest.CredentialResponse
	ch, err := c.Challenge(ctx)
	if err != nil {
		return out, err
	}
	a, err := d.Assert([]byte(ch), nil)
	if err != nil {
		return out, err
	}
	err = c.post(ctx, "apple/assert", attest.Request{Challenge: ch, KeyID: base64.StdEncoding.EncodeToString(d.KeyID),
		Assertion: base64.StdEncoding.EncodeToString(a)}, &out)
	return out, err
}

// Android gets a credential with a Play Integrity token minted by play for
// Cloud project, as a genuine install of pkg signed with cert would get it.
// edit (may be nil) changes the verdict first.
func (c *Client) Android(ctx context.Context, play *fakeattest.Play, project, pkg, cert string, edit func(*pi.TokenPayloadExternal)) (attest.CredentialResponse, error) {
	var out attest.CredentialResponse
	ch, err := c.Challenge(ctx)
	if err != nil {
		return out, err
	}
	p := fakeattest.PlayPayload(pkg, cert, playintegrity.RequestHash(ch), time.Now().UnixMilli())
	if edit != nil {
		edit(p)
	}
	err = c.post(ctx, "android", attest.Request{Challenge: ch, PackageName: pkg, Token: play.Mint(project, p)}, &out)
	return out, err
}

// Firebase exchanges an App Check token of app, minted by ac for the
// Firebase project (number, id).
func (c *Client) Firebase(ctx context.Context, ac *fakeattest.AppCheck, number, projectID, app string) (attest.CredentialResponse, error) {
	var out attest.CredentialResponse
	err := c.post(ctx, "firebase", attest.Request{Token: ac.Mint(ac.Claims(number, projectID, app))}, &out)
	return out, err
}
