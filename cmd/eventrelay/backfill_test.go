package main

import (
	"context"
	"eventrelay.dev/eventrelay/internal/testclose"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/devstack"
)

// eventrelay backfill against the local stack's backfill endpoint: a dry
// run answers 200 with a summary; a bad parameter is refused.
func TestBackfillCommand(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	if err := runBackfill([]string{"-url", st.BackfillURL, "-dry-run", "-include-permanent", "-types", "PURCHASE,SEARCH",
		"-from", "2026-01-01T00:00:00Z", "-rate", "5"}); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if err := runBackfill([]string{"-url", st.BackfillURL, "-from", "yesterday"}); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("a bad -from: %v, want a 400", err)
	}
	if c := st.Counters.Snapshot(); c["backfill_runs.completed"] != 1 {
		t.Fatalf("counters %v, want one backfill run logged", c)
	}
}
