// Command bootstrap is the AWS Lambda entry point (runtime provided.al2023):
// one binary for all four functions, the one to run named by
// EVENTRELAY_FUNCTION. Build with
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./cmd/bootstrap
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"eventrelay.dev/eventrelay/internal/setup"
	"eventrelay.dev/eventrelay/shared/config"
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
	env := config.FromOS()
	switch name := env.OneOf("EVENTRELAY_FUNCTION", "", "ingest"); name {
	case "ingest":
		fn, err := setup.Ingest(ctx, env, setup.Options{})
		if err != nil {
			return err
		}
		// Function URLs and API Gateway HTTP APIs (payload v2) share one
		// event shape; the adapter turns it into an http.Request.
		lambda.Start(httpadapter.NewV2(fn.Handler).ProxyWithContext)
		return nil
	default:
		return env.Err()
	}
}
