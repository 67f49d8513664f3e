package setup

import (
	"context"
	"log/slog"
	"time"
)

// initTimer times a function's start by phase. done logs one "init done"
// line with the milliseconds of each phase and in all, so an operator sees
// what a cold start spent before the first request (a slow secrets or
// queue client shows by name).
type initTimer struct {
	start, last time.Time
	phases      []slog.Attr
}

func startTimer() *initTimer {
	now := time.Now()
	return &initTimer{start: now, last: now}
}

// phase ends the phase called name (logged as name_ms) and starts the next.
func (t *initTimer) phase(name string) {
	now := time.Now()
	t.phases = append(t.phases, slog.Float64(name+"_ms", millis(now.Sub(t.last))))
	t.last = now
}

func (t *initTimer) done(ctx context.Context, log *slog.Logger) {
	attrs := append([]slog.Attr{slog.String("outcome", "init_done"),
		slog.Float64("init_ms", millis(time.Since(t.start)))}, t.phases...)
	log.LogAttrs(ctx, slog.LevelInfo, "init done", attrs...)
}

// millis is d in milliseconds, to the microsecond.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
