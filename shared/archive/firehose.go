package archive

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The archive on AWS. Ingest publishes to an SNS standard topic; the topic
// delivers to the events queue with raw message delivery, and to a Firehose
// delivery stream without it: SNS then hands Firehose its JSON envelope
// (Type, MessageId, TopicArn, Message, Timestamp, MessageAttributes), where
// raw delivery to Firehose would pass the body alone and drop the message
// attributes, the source an event's id is scoped to (AWS: "When you enable
// raw message delivery for Firehose endpoints, the message body is
// delivered. When you specify message attributes, it won't be sent."). The
// stream appends a newline to each record (AppendDelimiterToRecord),
// compresses each object with GZIP and writes it to S3 under one folder a
// day, as the Terraform module configures it with these values:
const (
	// S3Prefix is the stream's custom prefix: the day of the approximate
	// arrival time of the object's oldest record, UTC, under Prefix.
	S3Prefix = Prefix + "!{timestamp:yyyy-MM-dd}/"
	// S3ErrorPrefix is where the stream writes what it could not process.
	S3ErrorPrefix = "errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/"
	// S3Compression is the stream's compression format, and S3Extension
	// the extension it gives each object.
	S3Compression = "GZIP"
	S3Extension   = ".gz"
	// S3Processor is the stream's one processor: a newline after each
	// record (it takes no parameter).
	S3Processor = "AppendDelimiterToRecord"
	// FirehoseMaxBuffering is the longest buffering interval a stream takes
	// (900 s): an object's records arrived within it of the oldest.
	FirehoseMaxBuffering = 900 * time.Second
)

// Format is how a file's records are written.
type Format int

const (
	// Avro: the Cloud Storage subscription's Avro with metadata (GCP and the
	// local stack).
	Avro Format = iota
	// SNSEnvelopes: Firehose's gzip'd objects of SNS notification envelopes,
	// one a line (AWS).
	SNSEnvelopes
)

// Decode reads the file's records from r in its format.
func (f File) Decode(r io.Reader, fn func(Record) error) error {
	if f.Format == SNSEnvelopes {
		return DecodeSNS(r, fn)
	}
	return Decode(r, fn)
}

// firehoseTime is the time in a Firehose object's name,
// <stream>-<version>-<year>-<month>-<day>-<hour>-<minute>-<second>-<uuid>.
const (
	firehoseTime = "2006-01-02-15-04-05"
	uuidLen      = 36
)

// ParseFirehoseName reads the start time of an object the stream wrote:
// Prefix + day/ + <stream>-<version>-<time>-<uuid> + S3Extension; false for
// anything else (an error output, a stray upload).
func ParseFirehoseName(name string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok || strings.Contains(name, "..") {
		return time.Time{}, false
	}
	day, base, ok := strings.Cut(rest, "/")
	if _, err := time.Parse(dayLayout, day); !ok || err != nil || strings.Contains(base, "/") {
		return time.Time{}, false
	}
	base, ok = strings.CutSuffix(base, S3Extension)
	// -<version>-<time>-<uuid>: at least "-1-" before the time.
	n := len(base) - uuidLen - 1 - len(firehoseTime)
	if !ok || n < 3 || base[n-1] != '-' || base[len(base)-uuidLen-1] != '-' {
		return time.Time{}, false
	}
	stream, version, ok := cutLast(base[:n-1], "-")
	if _, err := strconv.Atoi(version); !ok || stream == "" || err != nil {
		return time.Time{}, false
	}
	t, err := time.Parse(firehoseTime, base[n:n+len(firehoseTime)])
	return t, err == nil
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// FirehoseName is the name the stream gives an object whose oldest record
// arrived at t (tests and stand-ins write with it).
func FirehoseName(stream string, version int, t time.Time, uuid string) string {
	t = t.UTC()
	return Prefix + t.Format(dayLayout) + "/" + stream + "-" + strconv.Itoa(version) + "-" + t.Format(firehoseTime) + "-" + uuid + S3Extension
}

// snsEnvelope is the JSON SNS delivers to a subscription without raw
// message delivery. Signature fields and the like are not read.
type snsEnvelope struct {
	Type              string `json:"Type"`
	MessageID         string `json:"MessageId"`
	TopicARN          string `json:"TopicArn"`
	Message           *string
	Timestamp         string `json:"Timestamp"`
	MessageAttributes map[string]struct {
		Type  string `json:"Type"`
		Value string `json:"Value"`
	} `json:"MessageAttributes"`
}

// DecodeSNS reads a Firehose object (gzip'd SNS envelopes, separated by
// newlines or by nothing: JSON values need no separator) and calls fn with
// each record, in order, as it reads. The record is the message as ingest
// published it: the body byte for byte (SNS carries it as a JSON string,
// and ingest's bodies are UTF-8 JSON), the String attributes, SNS's message
// id and publish time, and the topic in Subscription.
func DecodeSNS(r io.Reader, fn func(Record) error) error {
	zr, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return fmt.Errorf("archive file: not gzip (the stream compresses with %s): %w", S3Compression, err)
	}
	dec := json.NewDecoder(zr)
	for i := 0; ; i++ {
		var env snsEnvelope
		if err := dec.Decode(&env); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("archive record %d: %w", i, err)
		}
		rec, err := env.record()
		if err != nil {
			return fmt.Errorf("archive record %d: %w", i, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return zr.Close()
}

func (env *snsEnvelope) record() (Record, error) {
	if env.Type != "Notification" || env.MessageID == "" || env.Message == nil {
		return Record{}, errors.New("not an SNS notification envelope; the stream's subscription must not use raw message delivery (it drops the message attributes)")
	}
	at, err := time.Parse(time.RFC3339Nano, env.Timestamp)
	if err != nil {
		return Record{}, fmt.Errorf("message %s: Timestamp %q: %w", env.MessageID, env.Timestamp, err)
	}
	attrs := make(map[string]string, len(env.MessageAttributes))
	for k, v := range env.MessageAttributes {
		if v.Type == "String" || strings.HasPrefix(v.Type, "String.") {
			attrs[k] = v.Value
		}
	}
	return Record{Subscription: env.TopicARN, MessageID: env.MessageID, PublishTime: at.UTC(), Attributes: attrs,
		Data: []byte(*env.Message)}, nil
}

// EncodeSNS writes records as the stream writes one object of their SNS
// envelopes (compact JSON, as SNS sends it). Tests write with it; in the
// cloud only Firehose writes.
func EncodeSNS(w io.Writer, recs []Record) error {
	lines := make([][]byte, len(recs))
	for i, r := range recs {
		var err error
		if lines[i], err = json.Marshal(EnvelopeOf(r)); err != nil {
			return err
		}
	}
	return EncodeFirehose(w, lines)
}

// EncodeFirehose writes records (the bytes Firehose received) as the stream
// writes one object: each followed by a newline (S3Processor), all gzip'd
// (S3Compression).
func EncodeFirehose(w io.Writer, records [][]byte) error {
	zw := gzip.NewWriter(w)
	for _, r := range records {
		if _, err := zw.Write(r); err != nil {
			return err
		}
		if _, err := zw.Write([]byte{'\n'}); err != nil {
			return err
		}
	}
	return zw.Close()
}

// EnvelopeOf is the envelope SNS sends for a record's message (what
// DecodeSNS reads back), with the fields AWS's documented example has.
func EnvelopeOf(r Record) map[string]any {
	attrs := map[string]any{}
	for k, v := range r.Attributes {
		attrs[k] = map[string]string{"Type": "String", "Value": v}
	}
	env := map[string]any{"Type": "Notification", "MessageId": r.MessageID, "TopicArn": r.Subscription,
		"Message": string(r.Data), "Timestamp": r.PublishTime.UTC().Format("2006-01-02T15:04:05.000Z"),
		"UnsubscribeURL": "https://sns.example.invalid/?Action=Unsubscribe"}
	if len(attrs) > 0 {
		env["MessageAttributes"] = attrs
	}
	return env
}
