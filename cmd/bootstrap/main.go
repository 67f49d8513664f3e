// Command bootstrap is the AWS Lambda entry point (runtime provided.al2023):
// one binary for all functions, the one to run named by
// EVENTRELAY_FUNCTION. Build with
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./cmd/bootstrap
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/functions/forwarder/lambdasqs"
	"eventrelay.dev/eventrelay/internal/setup"
	_ "eventrelay.dev/eventrelay/internal/wiring/aws" // this entry runs on AWS
	"eventrelay.dev/eventrelay/shared/settings"
)

func main() {
	if err := run(); err != nil {
		// One line, then a non-zero exit: Lambda reports an init error.
		fmt.Fprintf(os.Stderr, "eventrelay: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	env := settings.FromOS()
	switch settings.EventrelayFunction.Get(env) {
	case "ingest":
		fn, err := setup.Ingest(ctx, env, setup.Options{})
		if err != nil {
			return err
		}
		startHTTP(fn.Handler)
	case "verify":
		fn, err := setup.Verify(ctx, env, setup.Options{})
		if err != nil {
			return err
		}
		startHTTP(fn.Handler)
	case "forwarder":
		fn, err := setup.NewForwarder(ctx, env, setup.Options{})
		if err != nil {
			return err
		}
		lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return lambdasqs.Handle(ctx, fn.Core, ev, fn.Visibility, fn.Concurrency)
		})
	case "backfill":
		fn, err := setup.NewBackfill(ctx, env, setup.Options{})
		if err != nil {
			return err
		}
		lambda.Start(backfillInvoke(fn.Core.Run)) // a lambda.Handler, which Start takes as StartHandler did
	}
	return env.Err()
}

// startHTTP serves a Function URL or API Gateway HTTP API (payload v2); both
// send the same event shape, which the adapter turns into an http.Request.
func startHTTP(h http.Handler) {
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}

// backfillInvoke takes the raw payload, so an empty one (a schedule without
// input) means the defaults: EventBridge Scheduler's input, or an
// operator's invoke payload, is the parameters object. The answer is the
// summary; an error (bad parameters, a failing queue) fails the invocation
// so it shows in the function's error metrics.
type backfillInvoke func(context.Context, backfill.Params) (backfill.Summary, error)

func (run backfillInvoke) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	p, err := backfill.ParseParams(payload)
	if err != nil {
		return nil, err
	}
	s, err := run(ctx, p)
	if err != nil {
		return nil, err
	}
	return json.Marshal(s)
}
