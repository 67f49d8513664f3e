// Package archive is the customer's own copy of every accepted event, as
// the cloud's managed path writes it: on GCP a Pub/Sub Cloud Storage
// subscription on the events topic, in Avro with write_metadata (the local
// stack writes the same files to a folder); on AWS a Firehose stream fed by
// the SNS events topic, gzip'd SNS envelopes (firehose.go). Backfill replays
// a time window from either.
//
// Avro rather than text: the text format writes only the message data, one
// message per line, and the data alone loses the attributes (the ingest
// source an event's id is scoped to). Avro with write_metadata keeps the
// message id, the publish time and the attributes beside the data, byte for
// byte as ingest queued it.
package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Record is one archived message: the fields of the Avro schema a Pub/Sub
// Cloud Storage subscription writes with write_metadata. The data is the
// queued body (cleansed and anonymised, the original id and timestamp).
type Record struct {
	Subscription string            `avro:"subscription_name"`
	MessageID    string            `avro:"message_id"`
	PublishTime  time.Time         `avro:"publish_time"` // timestamp-micros
	Attributes   map[string]string `avro:"attributes"`
	Data         []byte            `avro:"data"`
}

// Schema is the Avro schema of a Record as the subscription writes it
// (publish_time in microseconds since the epoch, UTC).
const Schema = `{"type":"record","name":"PubsubMessage","fields":[
 {"name":"subscription_name","type":"string"},
 {"name":"message_id","type":"string"},
 {"name":"publish_time","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"attributes","type":{"type":"map","values":"string"}},
 {"name":"data","type":"bytes"}]}`

// File naming, as the subscription is configured (cloud_storage_config's
// filename_prefix, filename_datetime_format and filename_suffix): an
// object is Prefix + its start time in DatetimeFormat + "_" + a unique id
// + Suffix, e.g. events/2026-12-07/06_10_00Z_<uuid>.avro. One folder a
// day lists a window without reading the whole bucket; names sort in time.
const (
	Prefix         = "events/"
	DatetimeFormat = "YYYY-MM-DD/hh_mm_ssZ" // Pub/Sub's notation
	Suffix         = ".avro"
	goLayout       = "2006-01-02/15_04_05Z" // the same in Go's
	dayLayout      = "2006-01-02"
)

// FileSpan is the longest a file's messages span after its start time: the
// subscription's max_duration is at most 10 minutes, a Firehose stream's
// buffering interval at most FirehoseMaxBuffering (15); one more for the
// writer's clock.
const FileSpan = FirehoseMaxBuffering + time.Minute

// File is one archive object.
type File struct {
	Name   string    // the object name (or path under the folder)
	Start  time.Time // the time in its name
	Format Format    // how its records are written (Decode reads them)
}

// Reader is an archive: the files written in a time window, and their
// records. Implementations: Dir (a local folder), gcsarchive (a Cloud
// Storage bucket), s3archive (an S3 bucket).
type Reader interface {
	// Files lists the files whose start time is in [from, to), in name
	// (= time) order.
	Files(ctx context.Context, from, to time.Time) ([]File, error)
	// Open reads one file.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Location names the archive in logs and summaries.
	Location() string
}

// ObjectName is the name of a file that starts at t.
func ObjectName(t time.Time, unique string) string {
	return NameAt(t) + "_" + unique + Suffix
}

// NewObjectName is a fresh name for a file that starts at t (a random
// unique part, as the subscription's writers use).
func NewObjectName(t time.Time) string {
	var u [16]byte
	rand.Read(u[:])
	return ObjectName(t, hex.EncodeToString(u[:]))
}

// NameAt is how the names of the files that start in t's second begin:
// names sort by time, so a bucket lists a window from NameAt(from) to
// NameAt(to + 1s) without reading the rest of the day.
func NameAt(t time.Time) string {
	return Prefix + t.UTC().Format(goLayout)
}

// ParseName reads a file's start time from its name; false for anything
// else under the prefix (a temporary object, a stray upload).
func ParseName(name string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok || !strings.HasSuffix(rest, Suffix) || len(rest) < len(goLayout)+1 || rest[len(goLayout)] != '_' {
		return time.Time{}, false
	}
	t, err := time.Parse(goLayout, rest[:len(goLayout)])
	return t, err == nil
}

// InWindow is the file a listed name is when it starts in [from, to);
// false for a file outside the window and for anything else under the
// prefix.
func InWindow(name string, from, to time.Time) (File, bool) {
	t, ok := ParseName(name)
	if !ok || t.Before(from) || !t.Before(to) {
		return File{}, false
	}
	return File{Name: name, Start: t}, true
}

// CheckName refuses to open anything but an archive file's name, so that
// a cursor or a request cannot point a Reader elsewhere.
func CheckName(name string) error {
	if _, ok := ParseName(name); !ok || strings.Contains(name, "..") {
		return fmt.Errorf("archive open: %q is not an archive file name", name)
	}
	return nil
}

// DayPrefixes are the folders that can hold files starting in [from, to).
func DayPrefixes(from, to time.Time) []string {
	var out []string
	for d := from.UTC().Truncate(24 * time.Hour); d.Before(to); d = d.Add(24 * time.Hour) {
		out = append(out, Prefix+d.Format(dayLayout)+"/")
	}
	return out
}

// ErrWindow is a window a Reader cannot list.
var ErrWindow = errors.New("archive: from must be before to")

// CheckWindow refuses an empty or reversed window, and one so long that
// listing it day by day is a mistake (a zero time, a typo in a year).
func CheckWindow(from, to time.Time) error {
	if !from.Before(to) {
		return ErrWindow
	}
	if to.Sub(from) > 5*366*24*time.Hour {
		return fmt.Errorf("archive: a window of %s is longer than five years", to.Sub(from))
	}
	return nil
}
