// Package fakegcs runs fake-gcs-server (github.com/fsouza/fake-gcs-server),
// a Cloud Storage stand-in that speaks the JSON and XML APIs the official
// client uses, in the test's process on a loopback port. Tests reach it
// the way a function does: STORAGE_EMULATOR_HOST=Server.Host, or a client
// from Server.Client, over a real socket (not the library's in-process
// transport).
package fakegcs

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"

	"eventrelay.dev/eventrelay/shared/archive/gcsarchive"
)

// Server is a running stand-in.
type Server struct {
	// Host is its host:port (STORAGE_EMULATOR_HOST).
	Host string
	srv  *fakestorage.Server
}

// Start runs a stand-in holding the buckets, empty, until the test ends.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	// PublicHost: the client reads objects with the XML API at the
	// endpoint's host (storage.googleapis.com in the cloud), which the
	// stand-in serves only on the host named here (any port).
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatalf("fake-gcs-server: %v", err)
	}
	t.Cleanup(srv.Stop)
	for _, b := range buckets {
		srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b})
	}
	return &Server{Host: strings.TrimPrefix(srv.URL(), "http://"), srv: srv}
}

// Client is the official client pointed at the stand-in; rt, when given,
// carries its requests (a test that records them).
func (s *Server) Client(t testing.TB, rt http.RoundTripper) *storage.Client {
	t.Helper()
	opts := gcsarchive.EmulatorOptions(s.Host)
	if rt != nil {
		opts = append(opts, option.WithHTTPClient(&http.Client{Transport: rt}))
	}
	c, err := storage.NewClient(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
