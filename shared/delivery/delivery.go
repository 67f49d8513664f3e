// Package delivery is what the forwarder and backfill must agree on when
// they deliver a queued event to the Moloco MCM User Event API: the send
// that re-reads a rotated key once, the class a failed send is recorded
// under, and the attributes a dead letter carries. The classes are read
// back by backfill's reasons filter, by the "class" field of both
// functions' logs and by the log-based metrics built on it, so they are
// written here once.
package delivery

import (
	"context"
	"strconv"
	"strings"
	"time"

	"eventrelay.dev/eventrelay/shared/clip"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
)

// Attributes added to a dead-lettered message, next to the original ones.
const (
	AttrDLClass    = "dl_class"  // permanent | retryable | auth | undecodable
	AttrDLStatus   = "dl_status" // HTTP status of the last attempt, 0 for none
	AttrDLReason   = "dl_reason" // the platform's message or our own reason
	AttrDLAttempts = "dl_attempts"
	AttrDLAt       = "dl_at" // RFC 3339 time of dead-lettering
)

// Dead-letter classes.
const (
	ClassPermanent   = "permanent"
	ClassRetryable   = "retryable"
	ClassAuth        = "auth"
	ClassUndecodable = "undecodable"
)

// ClassOf is the dead-letter class of a send's result, "" for a delivered
// one. Anything unforeseen is retryable: never dropped.
func ClassOf(res mcm.Result) string {
	switch res.Class {
	case mcm.Delivered:
		return ""
	case mcm.Permanent:
		return ClassPermanent
	case mcm.AuthFailed:
		return ClassAuth
	}
	return ClassRetryable
}

// Reason is what a failed result says: the platform's message, else the
// transport's error.
func Reason(res mcm.Result) string {
	if res.Message == "" && res.Err != nil {
		return res.Err.Error()
	}
	return res.Message
}

// Sender sends one event body; *mcm.Client is one.
type Sender interface {
	Send(ctx context.Context, body []byte) mcm.Result
}

// KeyInvalidator forgets a cached platform key so the next send re-reads
// it: how a rotated key is picked up without a redeploy.
type KeyInvalidator func()

// Send sends body; when the platform refuses the key (401, 403), which may
// have rotated, it forgets the key and sends once more, one time. A nil
// invalidate only sends again.
func Send(ctx context.Context, s Sender, invalidate KeyInvalidator, body []byte) mcm.Result {
	res := s.Send(ctx, body)
	if res.Class == mcm.AuthFailed {
		if invalidate != nil {
			invalidate()
		}
		res = s.Send(ctx, body)
	}
	return res
}

// PlatformKey reads the platform API key from the secret name in src, and
// returns the KeyInvalidator that makes the next read fetch it again (a
// no-op when src does not cache).
func PlatformKey(src secrets.Source, name string) (func(context.Context) (string, error), KeyInvalidator) {
	key := func(ctx context.Context) (string, error) {
		b, err := src.Get(ctx, name)
		return strings.TrimSpace(string(b)), err
	}
	invalidate := func() {}
	if c, ok := src.(interface{ Invalidate(string) }); ok {
		invalidate = func() { c.Invalidate(name) }
	}
	return key, invalidate
}

// DeadLetter is what a dead letter carries next to the original attributes.
// The forwarder and backfill both write it with Attributes.
type DeadLetter struct {
	Class    string
	Status   int
	Reason   string
	Attempts int
	At       time.Time
}

// MaxReason bounds dl_reason (Pub/Sub takes attribute values up to 1,024
// bytes) and the "reason" both functions log with it.
const MaxReason = 512

// Attributes returns a copy of orig with the event id (when known) and the
// dead-letter attributes set. The reason, which often is the platform's own
// text, is cut on a character boundary and cleaned, so the queue always
// takes it.
func (dl DeadLetter) Attributes(orig map[string]string, id string) map[string]string {
	attrs := make(map[string]string, len(orig)+6)
	for k, v := range orig {
		attrs[k] = v
	}
	if id != "" {
		attrs[queue.AttrEventID] = clip.String(id, MaxReason)
	}
	attrs[AttrDLClass] = dl.Class
	attrs[AttrDLStatus] = strconv.Itoa(dl.Status)
	attrs[AttrDLReason] = clip.String(dl.Reason, MaxReason)
	attrs[AttrDLAttempts] = strconv.Itoa(dl.Attempts)
	attrs[AttrDLAt] = dl.At.UTC().Format(time.RFC3339)
	return attrs
}
