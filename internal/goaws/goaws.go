// Package goaws starts goaws (an SQS-compatible server written in Go, built
// by `make bin/goaws` from the pinned tools module) on a free port for
// tests, and builds the real aws-sdk-go-v2 SQS client against it. goaws
// binds 0.0.0.0 whatever the config says; the port is random and short-lived.
//
// goaws v0.5.4 has one wire bug that matters here: on the JSON protocol it
// answers SendMessageBatch and DeleteMessageBatch with the Query protocol's
// element names (SendMessageBatchResultEntry / BatchResultErrorEntry instead
// of Successful / Failed), so the SDK sees no outcome at all. Start puts a
// loopback proxy in front of it that renames those keys and nothing else;
// the code under test keeps reading the real AWS contract.
package goaws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"eventrelay.dev/eventrelay/internal/emulator"
	"eventrelay.dev/eventrelay/internal/modroot"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Start runs goaws until the test ends and returns its endpoint. Without the
// binary the test is skipped, or fails when EVENTRELAY_REQUIRE_EMULATORS=1.
func Start(t testing.TB) string {
	t.Helper()
	bin := settings.GoawsBin.Get(settings.FromOS())
	if bin == "" {
		bin = filepath.Join(modroot.Find(), "bin", "goaws")
	}
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("goaws not found at %s: run `make bin/goaws`", bin)
		emulator.Missing(t, msg)
	}
	port := emulator.FreePort(t)
	cfg := filepath.Join(t.TempDir(), "goaws.yaml")
	yaml := fmt.Sprintf("Local:\n  Host: 127.0.0.1\n  Port: %d\n  Region: us-east-1\n  AccountId: \"100010001000\"\n  LogToFile: false\n", port)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", cfg, "Local")
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatalf("start goaws: %v", err)
	}
	t.Cleanup(func() {
		// The test is over: the emulator is killed, and Wait's error is that kill.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	backend := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(backend + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return fixBatchNames(t, backend)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("goaws did not answer within 10 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fixBatchNames serves a proxy to backend that renames goaws's batch result
// keys to the JSON protocol's, and returns the proxy's endpoint. It reads
// each answer whole before passing it on: through httputil.ReverseProxy a
// ReceiveMessage answer was cut off now and then ("unexpected EOF" in the
// SDK, about one receive in thirty), which made the SQS tests flaky.
func fixBatchNames(t testing.TB, backend string) string {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(client.CloseIdleConnections)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, header, body, err := forward(r.Context(), client, backend, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		action := r.Header.Get("X-Amz-Target")
		if action == "AmazonSQS.SendMessageBatch" || action == "AmazonSQS.DeleteMessageBatch" {
			body = renameBatchKeys(body)
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// forward sends r to backend and reads the whole answer.
func forward(ctx context.Context, client *http.Client, backend string, r *http.Request) (int, http.Header, []byte, error) {
	in, err := io.ReadAll(r.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, backend+r.URL.RequestURI(), bytes.NewReader(in))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = r.Header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	header := resp.Header.Clone()
	header.Del("Content-Length")
	return resp.StatusCode, header, body, nil
}

// renameBatchKeys maps goaws's batch result keys to the JSON protocol's.
func renameBatchKeys(body []byte) []byte {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return body
	}
	renamed := map[string]json.RawMessage{"Successful": json.RawMessage("[]"), "Failed": json.RawMessage("[]")}
	for k, v := range fields {
		switch k {
		case "SendMessageBatchResultEntry", "DeleteMessageBatchResultEntry":
			renamed["Successful"] = v
		case "BatchResultErrorEntry":
			renamed["Failed"] = v
		default:
			renamed[k] = v
		}
	}
	out, _ := json.Marshal(renamed)
	return out
}

// Client is the real SQS client pointed at endpoint.
func Client(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

// CreateQueue makes a queue and returns its URL; with dlqURL set, messages
// move there after maxReceive receives (goaws honours RedrivePolicy).
func CreateQueue(t testing.TB, c *sqs.Client, name, dlqURL string, maxReceive int) string {
	t.Helper()
	attrs := map[string]string{"VisibilityTimeout": "30"}
	if dlqURL != "" {
		arn := "arn:aws:sqs:us-east-1:100010001000:" + filepath.Base(dlqURL)
		policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": fmt.Sprint(maxReceive)})
		attrs["RedrivePolicy"] = string(policy)
	}
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	return *out.QueueUrl
}
