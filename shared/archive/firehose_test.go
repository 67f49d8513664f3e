package archive

import (
	"bytes"
	"compress/gzip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Three notifications as AWS's "Formatting Amazon SNS notifications for
// storage in Amazon S3 destinations" shows them (compact JSON, a line each,
// raw message delivery off), written here as text with our events' shape:
// a body with escapes and non-ASCII, String attributes, a Subject and
// signature fields the reader does not need.
const documentedLines = `{"Type":"Notification","MessageId":"d7d2513e-6126-5d77-bbe2-09042bd0a03a","TopicArn":"arn:aws:sns:us-east-1:333333333333:eventrelay-events","Message":"{\"id\":\"ev-1\",\"timestamp\":1765087800123,\"name\":\"Caf\u00e9 \\\"Ü\\\" \\u2028<b>\"}","Timestamp":"2026-12-07T06:10:00.123Z","SignatureVersion":"1","Signature":"abc=","SigningCertURL":"https://sns.us-east-1.amazonaws.com/x.pem","UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe","MessageAttributes":{"source":{"Type":"String","Value":"shop-web"},"event_id":{"Type":"String","Value":"ev-1"},"n":{"Type":"Number","Value":"3"}}}
{"Type":"Notification","MessageId":"0c0696ab-7733-5bfb-b6db-ce913c294d56","TopicArn":"arn:aws:sns:us-east-1:333333333333:eventrelay-events","Subject":"s","Message":"{\"id\":\"ev-2\"}","Timestamp":"2026-12-07T06:10:01Z","UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe","MessageAttributes":{"source":{"Type":"String","Value":"shop-app"}}}
{"Type":"Notification","MessageId":"816cd54d-8cfa-58ad-91c9-8d77c7d173aa","TopicArn":"arn:aws:sns:us-east-1:333333333333:eventrelay-events","Message":"{\"id\":\"ev-3\"}","Timestamp":"2026-12-07T06:10:02.5Z","UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"}
`

func gz(t *testing.T, s string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func decodeAll(t *testing.T, buf *bytes.Buffer) ([]Record, error) {
	t.Helper()
	var got []Record
	err := File{Format: SNSEnvelopes}.Decode(buf, func(r Record) error { got = append(got, r); return nil })
	return got, err
}

func TestDecodeSNSReadsTheDocumentedObject(t *testing.T) {
	want := []Record{
		{Subscription: "arn:aws:sns:us-east-1:333333333333:eventrelay-events", MessageID: "d7d2513e-6126-5d77-bbe2-09042bd0a03a",
			PublishTime: time.Date(2026, 12, 7, 6, 10, 0, 123e6, time.UTC), Attributes: map[string]string{"source": "shop-web", "event_id": "ev-1"},
			Data: []byte("{\"id\":\"ev-1\",\"timestamp\":1765087800123,\"name\":\"Caf\u00e9 \\\"Ü\\\" \\u2028<b>\"}")},
		{Subscription: "arn:aws:sns:us-east-1:333333333333:eventrelay-events", MessageID: "0c0696ab-7733-5bfb-b6db-ce913c294d56",
			PublishTime: time.Date(2026, 12, 7, 6, 10, 1, 0, time.UTC), Attributes: map[string]string{"source": "shop-app"}, Data: []byte(`{"id":"ev-2"}`)},
		{Subscription: "arn:aws:sns:us-east-1:333333333333:eventrelay-events", MessageID: "816cd54d-8cfa-58ad-91c9-8d77c7d173aa",
			PublishTime: time.Date(2026, 12, 7, 6, 10, 2, 5e8, time.UTC), Attributes: map[string]string{}, Data: []byte(`{"id":"ev-3"}`)},
	}
	// With the stream's newline after each record, without any delimiter
	// (a stream configured without the processor), and with SNS's own line
	// break plus the processor's (a blank line between records).
	for name, text := range map[string]string{"newline": documentedLines,
		"none":   strings.ReplaceAll(documentedLines, "}\n", "}"),
		"double": strings.ReplaceAll(documentedLines, "}\n", "}\n\n")} {
		got, err := decodeAll(t, gz(t, text))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got\n%+v\nwant\n%+v", name, got, want)
		}
	}
	// Our own writer reads back the same.
	var buf bytes.Buffer
	if err := EncodeSNS(&buf, want); err != nil {
		t.Fatal(err)
	}
	if got, err := decodeAll(t, &buf); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip: %v\n%+v", err, got)
	}
}

func TestDecodeSNSRefusesWhatIsNotTheArchive(t *testing.T) {
	for name, buf := range map[string]*bytes.Buffer{
		// Raw delivery on: the bodies alone, their source lost.
		"raw bodies": gz(t, `{"id":"ev-1","timestamp":1765087800123}`+"\n"),
		"not gzip":   bytes.NewBufferString(documentedLines),
		"truncated":  gz(t, documentedLines[:200]),
		"bad time":   gz(t, strings.Replace(documentedLines, "2026-12-07T06:10:01Z", "yesterday", 1)),
		"no message": gz(t, `{"Type":"Notification","MessageId":"m","Timestamp":"2026-12-07T06:10:01Z"}`),
	} {
		if _, err := decodeAll(t, buf); err == nil {
			t.Errorf("%s: read", name)
		}
	}
}

func TestFirehoseNames(t *testing.T) {
	at := time.Date(2026, 12, 7, 23, 59, 58, 0, time.UTC)
	name := FirehoseName("eventrelay-archive", 12, at, "3f1c6f0e-8a51-4b83-9a1e-6b1d2f0c9e77")
	if name != "events/2026-12-07/eventrelay-archive-12-2026-12-07-23-59-58-3f1c6f0e-8a51-4b83-9a1e-6b1d2f0c9e77.gz" {
		t.Fatalf("name %s", name)
	}
	if got, ok := ParseFirehoseName(name); !ok || !got.Equal(at) {
		t.Fatalf("parse %v %v", got, ok)
	}
	for _, bad := range []string{
		strings.TrimSuffix(name, ".gz"),
		strings.Replace(name, "events/", "errors/processing-failed/", 1),
		strings.Replace(name, "-12-2026", "-x-2026", 1),
		strings.Replace(name, "archive-12-", "", 1),
		"events/2026-12-07/../x-1-2026-12-07-23-59-58-3f1c6f0e-8a51-4b83-9a1e-6b1d2f0c9e77.gz",
		"events/2026-12-07/sub/eventrelay-archive-1-2026-12-07-23-59-58-3f1c6f0e-8a51-4b83-9a1e-6b1d2f0c9e77.gz",
		"events/2026-12-07/05_10_00Z_abc.avro", "events/", "",
	} {
		if _, ok := ParseFirehoseName(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
