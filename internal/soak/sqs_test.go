package soak

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/functions/forwarder/lambdasqs"
	"eventrelay.dev/eventrelay/internal/setup"
	"eventrelay.dev/eventrelay/internal/sqsstack"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/settings"
)

// The AWS path of the load-and-fault run: ingest sending to SQS (goaws),
// the forwarder driven by the event-source-mapping poller, and crashed as a
// Lambda instance crashes: its invocations in flight are abandoned (their
// messages come back after the visibility timeout) and a fresh instance,
// with none of the old one's memory, takes over.
func TestSoakSQSLosesNothing(t *testing.T) {
	cfg := testConfig(t)
	p := &sqsPipeline{}
	p.st = sqsstack.Start(t, sqsstack.Config{Env: cfg.forwarderEnv(), VisibilityTimeout: 5,
		Handler: p.handle})
	if err := p.crashForwarder(context.Background()); err != nil { // the first instance
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.close(); err != nil {
			t.Error(err)
		}
	})
	p.startTap()
	t.Cleanup(p.stopTap)

	rep, err := run(context.Background(), cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep)
}

type sqsPipeline struct {
	st      *sqsstack.Stack
	tap     *tap
	tapStop context.CancelFunc
	tapDone chan struct{}

	mu       sync.Mutex
	fwd      *setup.Forwarder
	alive    context.Context // ends when this instance crashes
	crash    context.CancelFunc
	previous []*setup.Forwarder
}

func (p *sqsPipeline) ingestURL() string   { return p.st.IngestURL }
func (p *sqsPipeline) apiKey() string      { return sqsstack.APIKey }
func (p *sqsPipeline) sink() *mcmsink.Sink { return p.st.Sink }
func (p *sqsPipeline) deadLettered(id string) (string, bool) {
	return p.tap.class(id)
}

// handle is the Lambda handler: the current instance's lambdasqs.Handle, failing
// the whole invocation when the instance crashes under it.
func (p *sqsPipeline) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	p.mu.Lock()
	fwd, alive := p.fwd, p.alive
	p.mu.Unlock()
	if fwd == nil {
		return events.SQSEventResponse{}, errors.New("no forwarder instance yet")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(alive, cancel)
	defer stop()
	resp, err := lambdasqs.Handle(ctx, fwd.Core, ev, fwd.Visibility, fwd.Concurrency)
	if alive.Err() != nil {
		return events.SQSEventResponse{}, errors.New("the instance crashed during the invocation")
	}
	return resp, err
}

func (p *sqsPipeline) crashForwarder(ctx context.Context) error {
	fwd, err := setup.NewForwarder(ctx, settings.FromMap(p.st.Env), setup.Options{})
	if err != nil {
		return err
	}
	alive, crash := context.WithCancel(context.Background())
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.crash != nil {
		p.crash()
		p.previous = append(p.previous, p.fwd)
	}
	p.fwd, p.alive, p.crash = fwd, alive, crash
	return nil
}

func (p *sqsPipeline) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, f := range append(p.previous, p.fwd) {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}

// backfill stops the tap, lets what it holds become visible again, and
// runs the backfill function on the dead-letter queue, as the scheduled
// Lambda does.
func (p *sqsPipeline) backfill(ctx context.Context) (backfill.Summary, error) {
	p.stopTap()
	time.Sleep(1500 * time.Millisecond)
	env := maps.Clone(p.st.Env)
	env["BACKFILL_QUEUE_URL"] = p.st.DeadLetterURL
	fn, err := setup.NewBackfill(ctx, settings.FromMap(env), setup.Options{})
	if err != nil {
		return backfill.Summary{}, err
	}
	sum, err := fn.Core.Run(ctx, backfillParams)
	return sum, errors.Join(err, fn.Close())
}

// parked reads the dead-letter queue in three passes and keeps every
// message any pass saw. Nothing else touches the queue by then, so a
// message seen once is held; but goaws, just after the backfill handed
// messages back with visibility 0, can answer a receive loop with part of
// the queue (sqsstack's package comment), so one pass could call a parked
// event lost. Its visibility clock ticks once a second: passes 1.5 s apart.
func (p *sqsPipeline) parked(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	for pass := range 3 {
		if pass > 0 {
			time.Sleep(1500 * time.Millisecond)
		}
		seen, err := p.parkedPass(ctx)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, seen)
	}
	return out, nil
}

// parkedPass reads the dead-letter queue once, hiding each message for a
// minute, then hands every one back (visibility 0). Three empty receives
// in a row end the pass.
func (p *sqsPipeline) parkedPass(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	var handles []*string
	defer func() {
		for _, h := range handles {
			// Best effort: what is not handed back returns after its minute.
			_, _ = p.st.Client.ChangeMessageVisibility(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityInput{
				QueueUrl: aws.String(p.st.DeadLetterURL), ReceiptHandle: h, VisibilityTimeout: 0})
		}
	}()
	for empty := 0; empty < 3; {
		resp, err := p.st.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(p.st.DeadLetterURL),
			MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: []string{"All"}})
		if err != nil {
			return nil, err
		}
		if len(resp.Messages) == 0 {
			empty++
			continue
		}
		empty = 0
		for _, m := range resp.Messages {
			class := classSQSRedrive
			if v, ok := m.MessageAttributes[delivery.AttrDLClass]; ok {
				class = aws.ToString(v.StringValue)
			}
			out[aws.ToString(m.MessageAttributes[queue.AttrEventID].StringValue)] = class
			handles = append(handles, m.ReceiptHandle)
		}
	}
	return out, nil
}

func (p *sqsPipeline) startTap() {
	p.tap = newTap()
	ctx, stop := context.WithCancel(context.Background())
	p.tapStop, p.tapDone = stop, make(chan struct{})
	go func() { defer close(p.tapDone); p.tapDeadLetters(ctx) }()
}

func (p *sqsPipeline) stopTap() {
	if p.tapStop != nil {
		p.tapStop()
		<-p.tapDone
		p.tapStop = nil
	}
}

// tapDeadLetters reads the dead-letter queue and records what arrives. It
// deletes nothing: each read hides a message for a second only, so the
// backfill finds every one of them afterwards.
func (p *sqsPipeline) tapDeadLetters(ctx context.Context) {
	for ctx.Err() == nil {
		out, err := p.st.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(p.st.DeadLetterURL),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			continue
		}
		for _, m := range out.Messages {
			attr := func(k string) string {
				if v, ok := m.MessageAttributes[k]; ok {
					return aws.ToString(v.StringValue)
				}
				return ""
			}
			class := attr(delivery.AttrDLClass)
			if class == "" {
				class = classSQSRedrive // moved by the queue's redrive policy
			}
			p.tap.record(attr(queue.AttrEventID), class)
		}
	}
}
