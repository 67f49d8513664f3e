package attest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// decodeBudget bounds the Play Integrity decode calls of a UTC day across
// every instance (Google's quota is per app and day: 10,000 by default).
// An instance takes a block of calls at a time from the counter in the
// state store, so the store sees one write per block, not per call; a
// block an instance did not use up when it stopped is lost, which only
// makes the bound stricter. Past WarnAt of the day's budget every block
// taken logs a warning (a log-based metric and an alert in Terraform);
// once spent, Android exchanges answer 503 until the next UTC day.
type decodeBudget struct {
	state  ledger.AttestStore
	limit  int64
	block  int64
	warnAt int64
	now    func() time.Time
	log    *slog.Logger

	mu   sync.Mutex
	day  string
	left int64
}

// take spends one decode call of today's budget.
func (b *decodeBudget) take(ctx context.Context) *failure {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now().UTC()
	day := now.Format(time.DateOnly)
	if day != b.day {
		b.day, b.left = day, 0
	}
	if b.left > 0 {
		b.left--
		return nil
	}
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	n := b.block
	total, err := b.state.TakeBudget(ctx, "play-decode-"+day, n, b.limit, tomorrow.Add(24*time.Hour))
	if errors.Is(err, ledger.ErrBudget) && n > 1 { // less than a block left: take the calls one by one
		n = 1
		total, err = b.state.TakeBudget(ctx, "play-decode-"+day, n, b.limit, tomorrow.Add(24*time.Hour))
	}
	switch {
	case errors.Is(err, ledger.ErrBudget):
		b.log.LogAttrs(ctx, slog.LevelWarn, "attest decode budget", slog.String("outcome", "decode_budget_spent"),
			slog.Int64("limit", b.limit), slog.String("day", day))
		f := refuse(ReasonBudget, "Android attestation is paused until %s; retry then", tomorrow.Format(time.RFC3339))
		f.retryAfter = tomorrow.Sub(now)
		return f
	case err != nil:
		return unavailable("decode budget: %v", err)
	}
	if total >= b.warnAt {
		b.log.LogAttrs(ctx, slog.LevelWarn, "attest decode budget", slog.String("outcome", "decode_budget_low"),
			slog.Int64("used", total), slog.Int64("limit", b.limit), slog.String("day", day))
	}
	b.left = n - 1
	return nil
}
