package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"eventrelay.dev/eventrelay/internal/attestclient"
	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/internal/fakeattest"
)

// runAttest plays an app against the local stack's attestation stand-ins:
// a fresh App Attest key attested under the test root (then asserted), or a
// Play Integrity token from the local decode server, or an App Check token
// of the local key, exchanged for an ingest credential.
func runAttest(args []string) error {
	fs := flag.NewFlagSet("attest", flag.ContinueOnError)
	target := fs.String("url", "http://127.0.0.1:8080", "ingest's base URL (the exchange is under /attest/v1/)")
	platform := fs.String("platform", "ios", "ios (App Attest), android (Play Integrity) or firebase (App Check)")
	source := fs.String("source", devstack.DevAttestSource, "the source to get a credential for")
	appID := fs.String("app-id", devstack.DevAppleAppID, "ios: <team id>.<bundle id>")
	dev := fs.Bool("development", false, "ios: a development-environment key (AAGUID appattestdevelop)")
	pkg := fs.String("package", devstack.DevAndroidPkg, "android: package name")
	cert := fs.String("cert", devstack.DevAndroidCert, "android: signing certificate digest (base64url SHA-256)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	app := attestclient.Client{URL: *target, Source: *source}
	var cred string
	switch *platform {
	case "ios":
		apple, err := fakeattest.NewApple()
		if err != nil {
			return err
		}
		d, err := fakeattest.NewDevice(*appID)
		if err != nil {
			return err
		}
		aaguid := fakeattest.AAGUIDProduction
		if *dev {
			aaguid = fakeattest.AAGUIDDevelopment
		}
		att, err := app.AppleAttest(ctx, apple, d, aaguid)
		if err != nil {
			return fmt.Errorf("attestation: %w", err)
		}
		fmt.Printf("attested key %x: credential until %s\n", d.KeyID[:8], att.ExpiresAt.Format(time.RFC3339))
		// What the app does when that credential expires: an assertion.
		as, err := app.AppleAssert(ctx, d)
		if err != nil {
			return fmt.Errorf("assertion: %w", err)
		}
		fmt.Printf("assertion (counter %d): credential until %s\n", d.Counter, as.ExpiresAt.Format(time.RFC3339))
		cred = as.Credential
	case "android":
		play := fakeattest.NewPlayWithKey(devstack.Project, []byte(devstack.DevPlayKey))
		r, err := app.Android(ctx, play, devstack.Project, *pkg, *cert, nil)
		if err != nil {
			return fmt.Errorf("play integrity: %w", err)
		}
		fmt.Printf("play integrity verdict accepted: credential until %s\n", r.ExpiresAt.Format(time.RFC3339))
		cred = r.Credential
	case "firebase":
		ac, err := fakeattest.NewAppCheck()
		if err != nil {
			return err
		}
		r, err := app.Firebase(ctx, ac, devstack.DevFirebaseNumber, devstack.DevFirebaseProject, devstack.DevFirebaseApp)
		if err != nil {
			return fmt.Errorf("app check: %w", err)
		}
		fmt.Printf("app check token accepted: credential until %s\n", r.ExpiresAt.Format(time.RFC3339))
		cred = r.Credential
	default:
		return errors.New("-platform is ios, android or firebase")
	}
	fmt.Printf("\ncredential:\n%s\n\ntry it:\n  echo '{\"event_type\":\"HOME\",\"timestamp\":%d,\"channel_type\":\"APP\",\"device\":{\"os\":\"IOS\",\"persistent_id\":\"dev-1\"}}' \\\n    | %s send -url %s -credential '%s'\n",
		cred, time.Now().UnixMilli(), devstack.CLI, *target, cred)
	return nil
}
