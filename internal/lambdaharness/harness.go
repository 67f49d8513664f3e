// Package lambdaharness runs a real Lambda bootstrap binary the way the
// Lambda service does: it serves the documented Runtime API on loopback,
// starts the binary with AWS_LAMBDA_RUNTIME_API pointing at it, and hands it
// invocations (GET .../invocation/next, POST .../response|error, and
// .../init/error). AWS's Runtime Interface Emulator serves the same contract
// and can be had from the module proxy
// (github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie);
// this harness predates that finding and stays until someone moves Start,
// Invoke and WaitExit (and the tests that read init errors, the exit and the
// output through them) onto it.
package lambdaharness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"eventrelay.dev/eventrelay/internal/httpserver"
	"eventrelay.dev/eventrelay/internal/syncbuf"
)

const prefix = "/2018-06-01/runtime/"

// Result is what the function answered to one invocation.
type Result struct {
	Payload []byte // the response body, or the error document
	IsError bool
}

type invocation struct {
	id      string
	payload []byte
	done    chan Result
}

// Runtime is a running bootstrap with its Runtime API.
type Runtime struct {
	pending   chan *invocation
	mu        sync.Mutex
	inflight  map[string]*invocation
	initError chan []byte
	cmd       *exec.Cmd
	srv       *http.Server
	stderr    syncbuf.Buffer // the test reads it while the process writes it
	exited    chan struct{}  // closed when the binary has exited
	exitErr   error          // its exit status, set before exited closes
	seq       int
}

// Start serves the Runtime API and starts binary with env (KEY=VALUE).
func Start(binary string, env []string) (*Runtime, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rt := &Runtime{pending: make(chan *invocation), inflight: map[string]*invocation{},
		initError: make(chan []byte, 1), exited: make(chan struct{})}
	// The Runtime API's next-invocation call is a long poll: no write
	// timeout shorter than the test.
	limits := httpserver.Defaults()
	limits.Write = time.Hour
	rt.srv = httpserver.Serve(ln, http.HandlerFunc(rt.serve), limits)
	rt.cmd = exec.Command(binary)
	rt.cmd.Env = append([]string{"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(),
		"PATH=" + os.Getenv("PATH"), "AWS_LAMBDA_FUNCTION_NAME=eventrelay-test",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=us-east-1", "_HANDLER=bootstrap"}, env...)
	rt.cmd.Stdout = &rt.stderr
	rt.cmd.Stderr = &rt.stderr
	if err := rt.cmd.Start(); err != nil {
		return nil, errors.Join(err, rt.srv.Close())
	}
	// A closed channel, not a value: every waiter (Invoke, WaitExit, Close)
	// sees the exit, however many there are.
	go func() { rt.exitErr = rt.cmd.Wait(); close(rt.exited) }()
	return rt, nil
}

func (rt *Runtime) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, prefix)
	switch {
	case r.Method == http.MethodGet && path == "invocation/next":
		var inv *invocation
		select {
		case inv = <-rt.pending:
		case <-r.Context().Done():
			return
		}
		rt.mu.Lock()
		rt.inflight[inv.id] = inv
		rt.mu.Unlock()
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:100010001000:function:eventrelay-test")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		w.Write(inv.payload)
	case r.Method == http.MethodPost && path == "init/error":
		body, _ := io.ReadAll(r.Body)
		rt.initError <- body
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		rest := strings.TrimPrefix(path, "invocation/")
		id, kind, _ := strings.Cut(rest, "/")
		body, _ := io.ReadAll(r.Body)
		rt.mu.Lock()
		inv := rt.inflight[id]
		delete(rt.inflight, id)
		rt.mu.Unlock()
		if inv == nil {
			http.Error(w, "unknown request id", http.StatusBadRequest)
			return
		}
		inv.done <- Result{Payload: body, IsError: kind == "error"}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.Error(w, "not part of the Runtime API", http.StatusNotFound)
	}
}

// Invoke sends one event and waits for the function's answer.
func (rt *Runtime) Invoke(ctx context.Context, payload []byte) (Result, error) {
	rt.mu.Lock()
	rt.seq++
	inv := &invocation{id: fmt.Sprintf("req-%d", rt.seq), payload: payload, done: make(chan Result, 1)}
	rt.mu.Unlock()
	select {
	case rt.pending <- inv:
	case b := <-rt.initError:
		return Result{}, fmt.Errorf("init error: %s; output: %s", b, rt.Output())
	case <-rt.exited:
		return Result{}, fmt.Errorf("bootstrap exited (%v): %s", rt.exitErr, rt.Output())
	case <-ctx.Done():
		return Result{}, fmt.Errorf("bootstrap never asked for an invocation: %w; output: %s", ctx.Err(), rt.Output())
	}
	select {
	case res := <-inv.done:
		return res, nil
	case <-rt.exited:
		return Result{}, fmt.Errorf("bootstrap exited during the invocation (%v): %s", rt.exitErr, rt.Output())
	case <-ctx.Done():
		return Result{}, fmt.Errorf("no answer: %w; output: %s", ctx.Err(), rt.Output())
	}
}

// WaitExit waits for the binary to exit by itself (an init failure).
func (rt *Runtime) WaitExit(timeout time.Duration) error {
	select {
	case <-rt.exited:
		return rt.exitErr
	case <-time.After(timeout):
		return errors.New("still running")
	}
}

// Output is what the binary printed so far.
func (rt *Runtime) Output() string { return rt.stderr.String() }

// Close stops the binary and the Runtime API.
func (rt *Runtime) Close() error {
	if rt.cmd.Process != nil {
		// It may have exited already: exited says when it is gone either way.
		_ = rt.cmd.Process.Kill()
		<-rt.exited // reaped, and its output complete
	}
	return rt.srv.Close()
}
