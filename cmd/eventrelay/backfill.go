package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/shared/settings"
)

// backfillClient waits out a whole run (BACKFILL_TIME_BUDGET, 240 s by
// default, plus the sends in flight).
var backfillClient = &http.Client{Timeout: 15 * time.Minute}

// runBackfill posts a backfill request to a local or deployed backfill
// endpoint and prints the summary.
func runBackfill(args []string) error {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	target := fs.String("url", "http://"+devstack.DefaultBackfillAddr, "the backfill endpoint")
	token := fs.String("token", settings.CLIBackfillToken.Get(settings.FromOS()),
		"bearer token, e.g. $(gcloud auth print-identity-token) for a deployed function (default $EVENTRELAY_BACKFILL_TOKEN)")
	var p backfill.Params
	fs.BoolVar(&p.DryRun, "dry-run", false, "count what would be resent; change nothing")
	fs.BoolVar(&p.IncludePermanent, "include-permanent", false, "also resend permanent (4xx) failures, e.g. after a mapping fix")
	reasons := fs.String("reasons", "", "comma list of classes to resend: retryable (default), auth, permanent")
	types := fs.String("types", "", "comma list of event types")
	fs.StringVar(&p.From, "from", "", "only events at or after this time (RFC 3339)")
	fs.StringVar(&p.To, "to", "", "only events before this time (RFC 3339)")
	fs.Float64Var(&p.Rate, "rate", 0, "events per second, below the configured BACKFILL_RATE")
	fs.IntVar(&p.MaxEvents, "max-events", 0, "stop after this many resends")
	fs.StringVar(&p.ReplayFrom, "replay-from", "", "instead: seek the live events subscription to this time (RFC 3339, Pub/Sub)")
	fs.BoolVar(&p.Archive, "archive", false, "instead: replay every archived event of -from to -to from the archive (BACKFILL_ARCHIVE)")
	fs.BoolVar(&p.Restart, "restart", false, "with -archive: start the window over instead of going on from the saved place")
	sources := fs.String("sources", "", "comma list of ingest sources")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *reasons != "" {
		p.Reasons = strings.Split(*reasons, ",")
	}
	if *sources != "" {
		p.Sources = strings.Split(*sources, ",")
	}
	if *types != "" {
		p.EventTypes = strings.Split(*types, ",")
	}
	body, _ := json.Marshal(p)
	req, err := http.NewRequest(http.MethodPost, *target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	resp, err := backfillClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(bytes.TrimSpace(raw))
	}
	fmt.Printf("%s\n%s\n", resp.Status, pretty.Bytes())
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}
