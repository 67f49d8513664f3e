// Command eventrelay is the operator's tool: it runs the whole pipeline
// locally (dev), plays a sender, an app and DFINERY against it (send,
// attest, callback), reads its counters, runs backfills and erasures,
// makes ingest API keys, serves one function, runs the load-and-fault run
// and builds the deployable archives (usage below lists them all).
package main

import (
	"errors"
	"flag"
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
  erase    erase one person (-user or -device): their ledger records go, their events stop
  soak     the load-and-fault run: many events through the local stack while the platform fails and the forwarder is killed
  serve    serve one function (FUNCTION_TARGET) through the Functions Framework, configured from the environment
  cost     what a month of events costs on each cloud at the Terraform defaults (docs/cost.md's tables, for another volume or mix)
  docs     docs config|cost: write docs/configuration.md from the settings registry, or docs/cost.md from the cost model
`

// commands are the subcommands by name; each parses its own flags, so
// `eventrelay <command> -h` prints that command's flags.
var commands = map[string]func([]string) error{
	"dev":      runDev,
	"keygen":   runKeygen,
	"serve":    runServe,
	"soak":     runSoak,
	"send":     runSend,
	"attest":   runAttest,
	"callback": runCallback,
	"counters": runCounters,
	"backfill": runBackfill,
	"erase":    runErase,
	"package":  runPackage,
	"docs":     runDocs,
	"cost":     runCost,
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	}
	run, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "eventrelay: unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	err := run(os.Args[2:])
	if errors.Is(err, flag.ErrHelp) {
		return // -h: the flag package printed the command's flags
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "eventrelay %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
