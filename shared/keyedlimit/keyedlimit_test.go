package keyedlimit

import (
	"testing"
	"time"
)

func TestEachKeyHasItsOwnBucket(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := New(60, 3, 100, func() time.Time { return now })
	for i := range 3 {
		if !l.Allow("a") {
			t.Fatalf("a's token %d refused", i)
		}
	}
	if l.Allow("a") {
		t.Error("a's fourth token in the same instant allowed; burst is 3")
	}
	if !l.Allow("b") {
		t.Error("b refused because a spent its bucket")
	}
	now = now.Add(time.Second) // 60 a minute: one token a second
	if !l.Allow("a") || l.Allow("a") {
		t.Error("a did not get exactly one token back after a second")
	}
}

func TestKeysAreBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := New(1, 1, 10, func() time.Time { return now })
	l.Allow("kept")
	for i := range 25 {
		l.Allow(string(rune('A' + i)))
		l.Allow("kept") // in use: carried over at each turnover
	}
	if n := len(l.cur) + len(l.prev); n > 20 {
		t.Errorf("%d buckets held; at most twice max (20)", n)
	}
	if l.Allow("kept") {
		t.Error("a key in use was forgotten and got a full bucket")
	}
}
