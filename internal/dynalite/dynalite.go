// Package dynalite starts dynalite (a DynamoDB-compatible server from npm,
// installed by `make emulators/node_modules`) on a free loopback port for
// tests, and builds the real aws-sdk-go-v2 DynamoDB client against it.
package dynalite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"eventrelay.dev/eventrelay/internal/emulator"
	"eventrelay.dev/eventrelay/internal/modroot"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Start runs dynalite until the test ends and returns its endpoint. Without
// the binary the test is skipped, or fails when EVENTRELAY_REQUIRE_EMULATORS=1
// (as in `make test` and CI).
func Start(t testing.TB) string {
	t.Helper()
	bin := settings.DynaliteBin.Get(settings.FromOS())
	if bin == "" {
		bin = filepath.Join(modroot.Find(), "emulators", "node_modules", ".bin", "dynalite")
	}
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("dynalite not found at %s: run `make emulators/node_modules`", bin)
		emulator.Missing(t, msg)
	}
	port := emulator.FreePort(t)
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--createTableMs", "0", "--deleteTableMs", "0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dynalite: %v", err)
	}
	t.Cleanup(func() {
		// The test is over: the emulator is killed, and Wait's error is that kill.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(15 * time.Second):
		t.Fatal("dynalite did not start within 15 s")
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// Client is the real DynamoDB client pointed at endpoint.
func Client(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// NewTable is a convenience for tests: a fresh table name per test.
func NewTable(t testing.TB, c *dynamodb.Client, create func(context.Context, *dynamodb.Client, string) error) string {
	t.Helper()
	name := fmt.Sprintf("eventrelay-ledger-%d", time.Now().UnixNano())
	if err := create(context.Background(), c, name); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return name
}
