package devstack

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// pubsubFront is the stack's Pub/Sub emulator as the functions' clients see
// it: pstest for everything, except that messages published to the events
// topic go straight to the push subscription's queue (eventsQueue) instead
// of into pstest.
//
// pstest (v2.8.0) keeps every message ever published, acknowledged or not
// (for its Messages method), and on every 10 ms tick and every pull scans
// the subscription's whole backlog; under load that scan took a third of
// the stack's CPU and the heap grew by the run's every event. The events
// topic carries all of the pipeline's traffic, so it bypasses pstest: its
// one subscription (EventsSub, created in pstest too, for its name) holds a
// message until the push stand-in has it acknowledged, and then nothing.
// The dead-letter topic, the admin calls and any other topic stay pstest's;
// clearAcknowledged bounds what pstest keeps of them.
type pubsubFront struct {
	*pstest.GServer
	ps     *pstest.Server
	events *eventsQueue
	// archive, when set, also gets every message of the events topic (the
	// Cloud Storage subscription's stand-in).
	archive *archiveWriter
	// gate is held shared by every publish to pstest and exclusively by
	// clearAcknowledged, so no message arrives between its look and its
	// clear.
	gate sync.RWMutex
}

// Publish implements pubsubpb.PublisherServer.
func (f *pubsubFront) Publish(ctx context.Context, req *pubsubpb.PublishRequest) (*pubsubpb.PublishResponse, error) {
	if req.GetTopic() != Topic {
		f.gate.RLock()
		defer f.gate.RUnlock()
		return f.GServer.Publish(ctx, req)
	}
	// The topic may have been deleted (a test does, to see ingest fail).
	if _, err := f.GServer.GetTopic(ctx, &pubsubpb.GetTopicRequest{Topic: Topic}); err != nil {
		return nil, err
	}
	if len(req.Messages) == 0 {
		return nil, status.Error(codes.InvalidArgument, "a publish request needs at least one message")
	}
	ids := f.events.publish(req.Messages)
	if f.archive != nil {
		f.archive.add(req.Messages, ids, time.Now())
	}
	return &pubsubpb.PublishResponse{MessageIds: ids}, nil
}

// CreateSubscription implements pubsubpb.SubscriberServer. A second
// subscription on the events topic would receive nothing (its messages
// never reach pstest), so it is refused, saying why.
func (f *pubsubFront) CreateSubscription(ctx context.Context, s *pubsubpb.Subscription) (*pubsubpb.Subscription, error) {
	if s.GetTopic() == Topic && s.GetName() != EventsSub {
		return nil, status.Errorf(codes.FailedPrecondition,
			"the local stack's events topic feeds only its push subscription %s; subscribe to %s instead", EventsSub, DeadLetterTopic)
	}
	return f.GServer.CreateSubscription(ctx, s)
}

// clearAcknowledged lets pstest forget its messages once every
// subscription of each message's topic has acknowledged it: pstest keeps
// every message ever published and can only forget all of them at once
// (ClearMessages, which also empties the subscriptions), so it does when
// no subscription holds one any more. True when it cleared.
func (f *pubsubFront) clearAcknowledged(ctx context.Context) bool {
	f.gate.Lock()
	defer f.gate.Unlock()
	msgs := f.ps.Messages()
	if len(msgs) == 0 {
		return false
	}
	subs := map[string]int{} // by topic; a deleted topic's still count
	for _, m := range msgs {
		n, ok := subs[m.Topic]
		if !ok {
			resp, err := f.GServer.ListTopicSubscriptions(ctx,
				&pubsubpb.ListTopicSubscriptionsRequest{Topic: m.Topic, PageSize: 1000})
			if err != nil || resp.NextPageToken != "" {
				return false
			}
			n = len(resp.Subscriptions)
			subs[m.Topic] = n
		}
		// Each subscription acknowledges a message at most once (pstest
		// drops it from the subscription then); one created after the
		// publish never had it and only delays the clear.
		if m.Acks < n {
			return false
		}
	}
	f.ps.ClearMessages()
	return true
}

// keepClearing runs clearAcknowledged every interval until ctx ends.
func (f *pubsubFront) keepClearing(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			f.clearAcknowledged(ctx)
		case <-ctx.Done():
			return
		}
	}
}

// localPubSub is the stack's Pub/Sub emulator: pstest behind the front,
// served on addr.
type localPubSub struct {
	addr  string
	ps    *pstest.Server
	front *pubsubFront
	srv   *grpc.Server
	stop  context.CancelFunc
	done  chan struct{}
}

// clearEvery is how often pstest's acknowledged messages are looked for.
const clearEvery = time.Second

func startPubSub(addr string) (*localPubSub, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pubsub emulator: %w", err)
	}
	// pstest's own listener (a free port) stays unused: its GServer can
	// only be made this way.
	ps := pstest.NewServer()
	l := &localPubSub{addr: ln.Addr().String(), ps: ps, srv: grpc.NewServer(), done: make(chan struct{}),
		front: &pubsubFront{GServer: &ps.GServer, ps: ps, events: newEventsQueue()}}
	pubsubpb.RegisterPublisherServer(l.srv, l.front)
	pubsubpb.RegisterSubscriberServer(l.srv, l.front)
	pubsubpb.RegisterSchemaServiceServer(l.srv, &ps.GServer)
	// Serve returns nil once Stop is called; a listener that fails shows as
	// every client call failing.
	go func() { _ = l.srv.Serve(ln) }()
	var ctx context.Context
	ctx, l.stop = context.WithCancel(context.Background())
	kept := make(chan struct{})
	go func() { defer close(kept); l.front.keepDeadLetters(ctx) }()
	go func() { defer close(l.done); l.front.keepClearing(ctx, clearEvery); <-kept }()
	return l, nil
}

func (l *localPubSub) Close() error {
	l.stop()
	<-l.done
	l.srv.Stop()
	return l.ps.Close()
}

// eventsQueue is the events subscription: the messages not yet
// acknowledged, in publish order. A message leaves it when the push
// stand-in takes it and comes back only if the delivery failed (retry);
// an acknowledged one is dropped, so the queue holds the backlog and
// nothing more.
type eventsQueue struct {
	mu      sync.Mutex
	pending []*queued // pending[head:] wait for delivery
	head    int
	held    int // taken and not yet acknowledged (in delivery or waiting to retry)
	nextID  int64
	wake    chan struct{} // a token: something may be pending
}

// queued is one message of the events subscription.
type queued struct {
	data        []byte
	attributes  map[string]string
	id          string
	publishTime time.Time
	attempts    int // deliveries so far
}

func newEventsQueue() *eventsQueue { return &eventsQueue{wake: make(chan struct{}, 1)} }

func (q *eventsQueue) publish(msgs []*pubsubpb.PubsubMessage) []string {
	now := time.Now()
	ids := make([]string, len(msgs))
	q.mu.Lock()
	for i, m := range msgs {
		q.nextID++
		ids[i] = "e" + strconv.FormatInt(q.nextID, 10)
		q.pending = append(q.pending, &queued{data: m.Data, attributes: m.Attributes, id: ids[i], publishTime: now})
	}
	q.mu.Unlock()
	q.signal()
	return ids
}

func (q *eventsQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest pending message, waiting for one; false once ctx
// has ended (the backlog stays).
func (q *eventsQueue) next(ctx context.Context) (*queued, bool) {
	for ctx.Err() == nil {
		q.mu.Lock()
		if q.head < len(q.pending) {
			m := q.pending[q.head]
			q.pending[q.head] = nil
			q.head++
			q.held++
			more := q.head < len(q.pending)
			q.compact()
			q.mu.Unlock()
			if more {
				q.signal() // the next waiting taker
			}
			return m, true
		}
		q.mu.Unlock()
		select {
		case <-q.wake:
		case <-ctx.Done():
		}
	}
	return nil, false
}

// compact lets go of the taken part of pending; called with mu held.
func (q *eventsQueue) compact() {
	switch {
	case q.head == len(q.pending):
		q.pending, q.head = q.pending[:0], 0
		if cap(q.pending) > 4096 { // a backlog that has drained
			q.pending = nil
		}
	case q.head >= 1024 && q.head*2 >= len(q.pending):
		n := copy(q.pending, q.pending[q.head:])
		clear(q.pending[n:])
		q.pending, q.head = q.pending[:n], 0
	}
}

// ack drops a taken message for good.
func (q *eventsQueue) ack(*queued) {
	q.mu.Lock()
	q.held--
	q.mu.Unlock()
}

// retry hands a taken message back, as a nack does.
func (q *eventsQueue) retry(m *queued) {
	q.mu.Lock()
	q.held--
	q.pending = append(q.pending, m)
	q.mu.Unlock()
	q.signal()
}

// size is how many messages the subscription holds: pending and taken but
// not acknowledged.
func (q *eventsQueue) size() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending) - q.head + q.held
}
