package packaging

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"

	"eventrelay.dev/eventrelay/internal/fakesecrets"
	"eventrelay.dev/eventrelay/internal/modroot"
	"eventrelay.dev/eventrelay/internal/syncbuf"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/pii"
	"eventrelay.dev/eventrelay/shared/queue"
)

// The buildpack moves the upload into this folder and writes its main in a
// package of the function's own module, under functions.local/app.
const (
	fnSourceDir = "serverless_function_source_code"
	appDir      = "functions.local/app"
)

// generatedMain is what Google's Go buildpack writes for a function whose
// package registers itself (functions.HTTP / functions.CloudEvent in init):
// a blank import of that package and the Functions Framework started on
// PORT, serving the function FUNCTION_TARGET names. The one difference:
// the host is 127.0.0.1, so the test's server stays on loopback.
const generatedMain = `// Code generated the way the Go functions buildpack does; DO NOT EDIT.
package main

import (
	"log"
	"os"

	_ "%s"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := funcframework.StartHostPort("127.0.0.1", port); err != nil {
		log.Fatalf("Function failed to start: %%v\n", err)
	}
}
`

// TestSourceArchiveBuildsLikeTheBuildpack builds dist/gcp-source.zip's
// content (WriteSourceZip, as `make dist` does), builds it the way Cloud
// Functions' Go buildpack does, and calls the running function with real
// requests.
func TestSourceArchiveBuildsLikeTheBuildpack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function binary (slow); not under -short")
	}
	var zipped bytes.Buffer
	if err := WriteSourceZip(modroot.Find(), &zipped); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	src := filepath.Join(work, fnSourceDir)
	unzip(t, zipped.Bytes(), src)
	module := checkLayout(t, src)

	if err := os.MkdirAll(filepath.Join(src, appDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, appDir, "main.go"), fmt.Appendf(nil, generatedMain, module), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(work, "app")
	// As the buildpack: go mod tidy in the source (it adds nothing when
	// go.mod is complete), then go build of the generated package.
	goCmd(t, src, "mod", "tidy")
	goCmd(t, src, "build", "-o", bin, "./"+appDir)

	b := startBackends(t)
	t.Run("Ingest", func(t *testing.T) { testIngest(t, b, bin) })
	t.Run("ForwardEvent", func(t *testing.T) { testForwardEvent(t, b, bin) })
	t.Run("cold start", func(t *testing.T) { logColdStart(t, b, bin) })
	t.Run("start failure", func(t *testing.T) {
		env := b.env("Ingest")
		env = append(env, "PII_SALT_SECRET=") // neither the salt nor PII_HASH_FIELDS=none
		out, err := runToExit(bin, env, 30*time.Second)
		if lines := strings.Split(strings.TrimSpace(out), "\n"); err == nil || len(lines) != 1 || !strings.Contains(out, "PII_SALT_SECRET") {
			t.Fatalf("start with PII_SALT_SECRET unset: err %v, output %q", err, out)
		}
	})
}

func unzip(t *testing.T, data []byte, dir string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(path, dir+string(filepath.Separator)) {
			t.Fatalf("entry %q escapes the folder", f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkLayout checks what the buildpack requires of the upload and returns
// the module path: go.mod at the root, a module path with a dot in its
// first element, and at the root a non-main package registering functions.
func checkLayout(t *testing.T, src string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(src, "go.mod"))
	if err != nil {
		t.Fatalf("no go.mod at the archive root: %v", err)
	}
	testclose.Cleanup(t, f)
	sc := bufio.NewScanner(f)
	var module string
	for sc.Scan() {
		if m, ok := strings.CutPrefix(sc.Text(), "module "); ok {
			module = strings.TrimSpace(m)
			break
		}
	}
	if first, _, _ := strings.Cut(module, "/"); !strings.Contains(first, ".") {
		t.Fatalf("module path %q: the buildpack needs a dot in its first element", module)
	}
	// Every .go file at the root, by package (what the buildpack compiles
	// there: the archive carries no build tags or tests).
	names, err := filepath.Glob(filepath.Join(src, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string][]*ast.File{}
	fset := token.NewFileSet()
	for _, name := range names {
		file, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		pkgs[file.Name.Name] = append(pkgs[file.Name.Name], file)
	}
	if len(pkgs) != 1 {
		t.Fatalf("the archive root holds %d packages, want the one function package", len(pkgs))
	}
	for name, files := range pkgs {
		if name == "main" {
			t.Fatal("the archive root is package main; the buildpack needs a library package there")
		}
		registers := false
		for _, file := range files {
			for _, imp := range file.Imports {
				registers = registers || imp.Path.Value == `"github.com/GoogleCloudPlatform/functions-framework-go/functions"`
			}
		}
		if !registers {
			t.Fatalf("package %s at the root does not import the framework's functions package", name)
		}
	}
	return module
}

func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	// Dependencies come from the module cache (or the configured proxy), as
	// the buildpack's go build with a go.mod does.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// backends are the in-test stand-ins for Pub/Sub, Secret Manager and the
// Events API.
type backends struct {
	ps      *pstest.Server
	secrets *fakesecrets.GCP
	sink    *mcmsink.Sink
	sinkURL string
}

const (
	project     = "eventrelay-buildpack"
	topic       = "projects/" + project + "/topics/eventrelay-events"
	dlTopic     = "projects/" + project + "/topics/eventrelay-deadletter"
	secretKeys  = "projects/" + project + "/secrets/ingest-api-keys"
	secretSalt  = "projects/" + project + "/secrets/pii-salt"
	secretMCM   = "projects/" + project + "/secrets/mcm-api-key"
	apiKey      = "buildpack.local-test-key-not-a-secret"
	piiSalt     = "buildpack-test-pii-salt"
	platformID  = "local-platform"
	platformKey = "local-mcm-api-key"
)

func startBackends(t *testing.T) *backends {
	b := &backends{ps: pstest.NewServerWithAddress("127.0.0.1:0")}
	testclose.Cleanup(t, b.ps)
	for _, name := range []string{topic, dlTopic} {
		if _, err := b.ps.GServer.CreateTopic(context.Background(), &pubsubpb.Topic{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if b.secrets, err = fakesecrets.StartGCP(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.secrets.Close)
	keys, _ := json.Marshal(auth.APIKeyFile{Keys: []auth.APIKey{auth.HashAPIKey("buildpack", "buildpack-test",
		"local-test-key-not-a-secret", []byte("buildpack-salt-0"))}})
	b.secrets.Set(secretKeys, string(keys))
	b.secrets.Set(secretSalt, piiSalt)
	b.secrets.Set(secretMCM, platformKey)
	b.sink = mcmsink.New(mcmsink.Config{PlatformID: platformID, APIKey: platformKey})
	srv := httptest.NewServer(b.sink)
	t.Cleanup(srv.Close)
	b.sinkURL = srv.URL
	return b
}

// env is a clean environment (nothing inherited but PATH) for target.
func (b *backends) env(target string) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "FUNCTION_TARGET=" + target,
		"PUBSUB_EMULATOR_HOST=" + b.ps.Addr, "SECRETMANAGER_EMULATOR_HOST=" + b.secrets.Addr,
		"QUEUE_BACKEND=pubsub", "SECRETS_BACKEND=gcp", "PUBSUB_TOPIC=" + topic, "DEADLETTER_TOPIC=" + dlTopic,
		"INGEST_API_KEYS_SECRET=" + secretKeys, "PII_SALT_SECRET=" + secretSalt,
		"MCM_BASE_URL=" + b.sinkURL, "MCM_PLATFORM_ID=" + platformID, "MCM_API_KEY_SECRET=" + secretMCM}
}

// launch starts bin with env on a free loopback port (PORT), its output
// in the returned buffer.
func launch(t *testing.T, bin string, env []string) (*exec.Cmd, *syncbuf.Buffer, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	out := &syncbuf.Buffer{}
	cmd := exec.Command(bin)
	cmd.Env = append(env, fmt.Sprintf("PORT=%d", port))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out, port
}

// startFunction runs bin serving target and returns its URL once it answers.
func startFunction(t *testing.T, bin string, env []string) string {
	t.Helper()
	cmd, out, port := launch(t, bin, env)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if err := cmd.Process.Kill(); err != nil {
			t.Error(err)
		}
		<-exited //nolint:errcheck // Wait's error is the kill just sent
		if t.Failed() {
			t.Logf("function output:\n%s", out.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("function exited at start (%v): %s", err, out.String())
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("function did not listen within 20 s: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func runToExit(bin string, env []string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(env, "PORT=0")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func testIngest(t *testing.T, b *backends, bin string) {
	url := startFunction(t, bin, b.env("Ingest"))
	at := time.Now().Add(-time.Minute).UnixMilli()
	body := fmt.Sprintf(`{"id":"bp-ingest-1","event_type":"SEARCH","search_query":"shoes","timestamp":%d,"channel_type":"SITE","user_id":"someone@example.com"}`, at)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Accepted []struct {
			Index int    `json:"index"`
			ID    string `json:"id"`
		} `json:"accepted"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &answer); err != nil || resp.StatusCode != http.StatusAccepted ||
		len(answer.Accepted) != 1 || answer.Accepted[0].ID != "bp-ingest-1" {
		t.Fatalf("ingest answered %d %s", resp.StatusCode, raw)
	}
	// Acknowledged means on the topic, anonymised.
	anon, _ := pii.New([]byte(piiSalt), []string{pii.UserID}, pii.IPKeep)
	for _, m := range b.ps.Messages() {
		if m.Topic == topic && m.Attributes[queue.AttrEventID] == "bp-ingest-1" {
			var ev map[string]any
			if err := json.Unmarshal(m.Data, &ev); err != nil {
				t.Fatal(err)
			}
			if ev["user_id"] != anon.Hash("someone@example.com") || ev["search_query"] != "shoes" {
				t.Fatalf("published %s", m.Data)
			}
			return
		}
	}
	t.Fatal("ingest answered 202 but nothing is on the topic")
}

// cloudEvent posts a binary-mode Pub/Sub CloudEvent, as Eventarc does.
func cloudEvent(t *testing.T, url, msgID string, data []byte, attrs map[string]string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"subscription": "projects/" + project + "/subscriptions/eventarc-forwarder",
		"message": map[string]any{"data": base64.StdEncoding.EncodeToString(data), "attributes": attrs,
			"messageId": msgID, "publishTime": time.Now().UTC().Format(time.RFC3339Nano)},
		"deliveryAttempt": 1,
	})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", msgID)
	req.Header.Set("ce-type", "google.cloud.pubsub.topic.v1.messagePublished")
	req.Header.Set("ce-source", "//pubsub.googleapis.com/"+topic)
	req.Header.Set("ce-time", time.Now().UTC().Format(time.RFC3339Nano))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func testForwardEvent(t *testing.T, b *backends, bin string) {
	url := startFunction(t, bin, b.env("ForwardEvent"))
	at := time.Now().Add(-time.Minute).UnixMilli()
	good := fmt.Appendf(nil, `{"id":"bp-fwd-1","event_type":"PAGE_VIEW","page_id":"home","timestamp":%d,"channel_type":"SITE","user_id":"u-1"}`, at)
	if code := cloudEvent(t, url, "m-1", good, map[string]string{queue.AttrEventID: "bp-fwd-1"}); code != http.StatusOK {
		t.Fatalf("delivered event answered %d, want 200 (ack)", code)
	}
	if n := b.sink.CountByID()["bp-fwd-1"]; n != 1 {
		t.Fatalf("the stand-in got bp-fwd-1 %d times", n)
	}
	if got := b.sink.Accepted()[0].Body; !bytes.Equal(got, good) {
		t.Fatalf("the stand-in got %s, want %s", got, good)
	}
	// A permanent rejection is dead-lettered and acknowledged.
	bad := fmt.Appendf(nil, `{"id":"bp-fwd-2","event_type":"SEARCH","timestamp":%d,"channel_type":"SITE","user_id":"u-2"}`, at)
	if code := cloudEvent(t, url, "m-2", bad, map[string]string{queue.AttrEventID: "bp-fwd-2"}); code != http.StatusOK {
		t.Fatalf("rejected event answered %d, want 200 (ack after dead-lettering)", code)
	}
	found := false
	for _, m := range b.ps.Messages() {
		found = found || m.Topic == dlTopic && m.Attributes[queue.AttrEventID] == "bp-fwd-2" && m.Attributes["dl_status"] == "400"
	}
	if !found {
		t.Fatal("bp-fwd-2 is not on the dead-letter topic")
	}
	// A retryable failure is a nack: a non-2xx the trigger redelivers.
	b.sink.SetFaults(mcmsink.Faults{Down: true})
	defer b.sink.SetFaults(mcmsink.Faults{})
	retry := fmt.Appendf(nil, `{"id":"bp-fwd-3","event_type":"PAGE_VIEW","page_id":"home","timestamp":%d,"channel_type":"SITE","user_id":"u-3"}`, at)
	if code := cloudEvent(t, url, "m-3", retry, map[string]string{queue.AttrEventID: "bp-fwd-3"}); code < 500 {
		t.Fatalf("event the platform refused with 503 answered %d, want a 5xx (nack)", code)
	}
}

// logColdStart measures, without asserting on it (timings are the
// machine's), process start to the first answered request of Ingest, the
// module root package's init (where FUNCTION_TARGET's setup runs: secrets
// read, clients built) from GODEBUG=inittrace=1, and setup's own "init
// done" line (its phases in ms). Shown with -v.
func logColdStart(t *testing.T, b *backends, bin string) {
	var starts []time.Duration
	var inits, phases []string
	for range 3 {
		t0 := time.Now()
		cmd, out, port := launch(t, bin, append(b.env("Ingest"), "GODEBUG=inittrace=1"))
		url := fmt.Sprintf("http://127.0.0.1:%d/", port)
		for {
			if resp, err := http.Get(url); err == nil {
				resp.Body.Close()
				break
			}
			if time.Since(t0) > 20*time.Second {
				_ = cmd.Process.Kill() // the test fails below either way
				_ = cmd.Wait()
				t.Fatalf("no answer within 20 s: %s", out.String())
			}
			time.Sleep(2 * time.Millisecond)
		}
		starts = append(starts, time.Since(t0))
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait() // killed: its error is the kill
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, "init eventrelay.dev/eventrelay @") {
				inits = append(inits, line)
			}
			if strings.Contains(line, `"message":"init done"`) {
				phases = append(phases, line)
			}
		}
	}
	t.Logf("Ingest: process start to first answer %v", starts)
	for _, l := range inits {
		t.Logf("module root init (FUNCTION_TARGET's setup): %s", l)
	}
	for _, l := range phases {
		t.Logf("setup: %s", l)
	}
}
