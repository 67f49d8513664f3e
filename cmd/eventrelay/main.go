// Command eventrelay is the operator's tool: it runs the whole pipeline
// locally (dev) and makes ingest API keys (keygen).
package main

import (
	"fmt"
	"os"
)

const usage = `usage: eventrelay <command> [flags]

commands:
  dev      run the whole pipeline locally on emulators and print how to use it
  keygen   make a new ingest API key and the entry to store in the keys secret
  package  build dist/gcp-source.zip (or, with -lambda, the Lambda zip)
  send     send events to ingest, with an API key, signed, or with an attestation credential
  attest   get an attestation credential from the local stack, as an iOS or Android app would (test stand-ins)
  callback send a DFINERY verification callback signed with ABX-HASH
  counters print the local pipeline's counters
  backfill resend dead-lettered events through a backfill endpoint (-dry-run to count only)
  soak     the load-and-fault run: many events through the local stack while the platform fails and the forwarder is killed
  serve    serve one function (FUNCTION_TARGET) through the Functions Framework, configured from the environment
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "dev":
		err = runDev(os.Args[2:])
	case "keygen":
		err = runKeygen(os.Args[2:])
	case "serve":
		err = runServe(os.Args[2:])
	case "soak":
		err = runSoak(os.Args[2:])
	case "send":
		err = runSend(os.Args[2:])
	case "attest":
		err = runAttest(os.Args[2:])
	case "callback":
		err = runCallback(os.Args[2:])
	case "counters":
		err = runCounters(os.Args[2:])
	case "backfill":
		err = runBackfill(os.Args[2:])
	case "package":
		err = runPackage(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "eventrelay: unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "eventrelay %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
