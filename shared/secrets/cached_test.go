package secrets

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type slowSource struct {
	calls atomic.Int32
	value string
	err   error
	mu    sync.Mutex
}

func (s *slowSource) Get(context.Context, string) ([]byte, error) {
	s.calls.Add(1)
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return []byte(s.value), nil
}

func (s *slowSource) set(v string, err error) {
	s.mu.Lock()
	s.value, s.err = v, err
	s.mu.Unlock()
}

func TestCachedSharesOneFetch(t *testing.T) {
	src := &slowSource{value: "v1"}
	c := NewCached(src, time.Minute)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := c.Get(context.Background(), "k"); err != nil || string(v) != "v1" {
				t.Errorf("%q %v", v, err)
			}
		}()
	}
	wg.Wait()
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("%d fetches for 50 concurrent readers", n)
	}
}

func TestCachedStaleWithinGrace(t *testing.T) {
	clock := time.Now()
	src := &slowSource{value: "v1"}
	c := NewCached(src, time.Minute, WithGrace(5*time.Minute), WithClock(func() time.Time { return clock }))
	if _, err := c.Get(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
	src.set("", errors.New("secret manager down"))
	clock = clock.Add(3 * time.Minute)
	if v, err := c.Get(context.Background(), "k"); err != nil || string(v) != "v1" {
		t.Fatalf("within grace: %q %v", v, err)
	}
	clock = clock.Add(10 * time.Minute)
	if _, err := c.Get(context.Background(), "k"); err == nil {
		t.Fatal("past the grace period the error must surface")
	}
	fresh := NewCached(src, time.Minute)
	if _, err := fresh.Get(context.Background(), "k"); err == nil {
		t.Fatal("no value and an error: must fail")
	}
}
