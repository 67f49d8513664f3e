package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"eventrelay.dev/eventrelay/internal/modroot"
	_ "eventrelay.dev/eventrelay/internal/wiring/aws" // LEDGER_BACKEND=dynamodb on the local stack
	"eventrelay.dev/eventrelay/shared/ledger/dynamoledger"
)

// LocalLedgerTable is the DynamoDB table the local stack creates for
// LEDGER_BACKEND=dynamodb when LEDGER_DYNAMODB_TABLE names none.
const LocalLedgerTable = "eventrelay-ledger-local"

// localLedger readies the ledger LEDGER_BACKEND names, so the functions
// (which open it from env, as in the cloud) find it: empty or "memory" is
// the in-process ledger; "firestore" and "dynamodb" use the emulator
// FIRESTORE_EMULATOR_HOST or AWS_ENDPOINT_URL_DYNAMODB names, or else start
// the npm one `make emulators` installed (refusing, with what to run, when
// it is not there). It returns the emulator's address ("" for memory).
func (st *Stack) localLedger(ctx context.Context, env map[string]string) (string, error) {
	switch backend := env["LEDGER_BACKEND"]; backend {
	case "", "memory":
		delete(env, "LEDGER_BACKEND")
		return "", nil
	case "firestore":
		host := os.Getenv("FIRESTORE_EMULATOR_HOST")
		if host == "" {
			var err error
			if host, err = st.startEmulator(ctx, "the Firestore emulator", "firestore-server.js", func(port int) *exec.Cmd {
				return exec.Command("node", filepath.Join(modroot.Find(), "emulators", "firestore-server.js"), fmt.Sprint(port))
			}); err != nil {
				return "", err
			}
			// The Firestore client reads it from the process.
			if err := os.Setenv("FIRESTORE_EMULATOR_HOST", host); err != nil {
				return "", err
			}
		}
		st.ledgerEnv = map[string]string{"FIRESTORE_EMULATOR_HOST": host}
		setDefault(env, "GOOGLE_CLOUD_PROJECT", Project)
		return host, nil
	case "dynamodb":
		endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
		st.ledgerEnv = map[string]string{}
		if endpoint == "" {
			host, err := st.startEmulator(ctx, "dynalite (the DynamoDB emulator)", filepath.Join("node_modules", ".bin", "dynalite"), func(port int) *exec.Cmd {
				return exec.Command(filepath.Join(modroot.Find(), "emulators", "node_modules", ".bin", "dynalite"),
					"--host", "127.0.0.1", "--port", fmt.Sprint(port), "--createTableMs", "0", "--deleteTableMs", "0")
			})
			if err != nil {
				return "", err
			}
			endpoint = "http://" + host
			// Our own dynalite takes any credentials; the AWS client reads
			// these from the process.
			st.ledgerEnv = map[string]string{"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
			if os.Getenv("AWS_REGION") == "" {
				st.ledgerEnv["AWS_REGION"] = "us-east-1"
			}
		}
		st.ledgerEnv["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
		for k, v := range st.ledgerEnv {
			if err := os.Setenv(k, v); err != nil {
				return "", err
			}
		}
		setDefault(env, "LEDGER_DYNAMODB_TABLE", LocalLedgerTable)
		if err := createLedgerTable(ctx, endpoint, env["LEDGER_DYNAMODB_TABLE"]); err != nil {
			return "", err
		}
		return endpoint, nil
	default:
		return "", fmt.Errorf("LEDGER_BACKEND=%s: the local stack runs the ledger in memory (unset), on firestore or on dynamodb", backend)
	}
}

func setDefault(env map[string]string, k, v string) {
	if env[k] == "" {
		env[k] = v
	}
}

// startEmulator runs an npm emulator of emulators/ on a free loopback port
// until the stack closes, and returns its host:port once it accepts
// connections.
func (st *Stack) startEmulator(ctx context.Context, what, file string, command func(port int) *exec.Cmd) (string, error) {
	if _, err := os.Stat(filepath.Join(modroot.Find(), "emulators", file)); err != nil {
		return "", fmt.Errorf("%s is not installed: run `make emulators` in the checkout, or name a running one (FIRESTORE_EMULATOR_HOST, AWS_ENDPOINT_URL_DYNAMODB)", what)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return "", err
	}
	cmd := command(port)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	st.closers = append(st.closers, func() error {
		// Wait's error is the kill; a Kill that fails finds it exited already.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return addr, c.Close()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("%s did not listen on %s within 30 s", what, addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// createLedgerTable creates the ledger table as Terraform's module does
// (dynamoledger.CreateTable), unless it exists.
func createLedgerTable(ctx context.Context, endpoint, table string) error {
	client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	err := dynamoledger.CreateTable(ctx, client, table)
	var inUse interface{ ErrorCode() string }
	if err != nil && !(errors.As(err, &inUse) && inUse.ErrorCode() == "ResourceInUseException") {
		return fmt.Errorf("LEDGER_DYNAMODB_TABLE %s on %s: %w", table, endpoint, err)
	}
	return nil
}
