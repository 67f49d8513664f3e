package archive

import (
	"bytes"
	"testing"
	"time"
)

// The archive's files sit in the customer's bucket, written by the cloud's
// managed path; a replay must refuse whatever else it finds there with an
// error, never panic or hang on it.

func fuzzRecords() []Record {
	at := time.Date(2026, 12, 7, 9, 30, 0, 123000000, time.UTC)
	return []Record{
		{Subscription: "arn:aws:sns:us-east-1:123456789012:events", MessageID: "m-1", PublishTime: at,
			Attributes: map[string]string{"source": "app"}, Data: []byte(`{"id":"e-1"}`)},
		{Subscription: "projects/p/subscriptions/archive", MessageID: "m-2", PublishTime: at.Add(time.Second),
			Data: []byte(`{"id":"é-2","x":"\u2028"}`)},
	}
}

// FuzzDecodeSNS: a Firehose object read back gives records that survive
// being written and read again unchanged.
func FuzzDecodeSNS(f *testing.F) {
	var good bytes.Buffer
	if err := EncodeSNS(&good, fuzzRecords()); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	var bare bytes.Buffer
	if err := EncodeFirehose(&bare, [][]byte{[]byte(`{"id":"e-1"}`), []byte(`{"Type":"Notification"}`)}); err != nil {
		f.Fatal(err)
	}
	f.Add(bare.Bytes())
	f.Add([]byte("not gzip"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []Record
		if err := DecodeSNS(bytes.NewReader(b), func(r Record) error { got = append(got, r); return nil }); err != nil {
			return
		}
		var again bytes.Buffer
		if err := EncodeSNS(&again, got); err != nil {
			t.Fatalf("records read from an object cannot be written again: %v", err)
		}
		var back []Record
		if err := DecodeSNS(&again, func(r Record) error { back = append(back, r); return nil }); err != nil {
			t.Fatalf("an object written from read records does not read: %v", err)
		}
		if len(back) != len(got) {
			t.Fatalf("%d records read back, %d written", len(back), len(got))
		}
		for i := range got {
			g, w := back[i], got[i]
			// The envelope's Timestamp has milliseconds, as SNS writes it.
			if g.MessageID != w.MessageID || g.Subscription != w.Subscription || !bytes.Equal(g.Data, w.Data) ||
				!g.PublishTime.Equal(w.PublishTime.Truncate(time.Millisecond)) || len(g.Attributes) != len(w.Attributes) {
				t.Fatalf("record %d changed on the way: %+v, then %+v", i, w, g)
			}
			for k, v := range w.Attributes {
				if g.Attributes[k] != v {
					t.Fatalf("record %d attribute %q: %q, then %q", i, k, v, g.Attributes[k])
				}
			}
		}
	})
}

// FuzzDecodeAvro: an Avro file read from the bucket either reads or is
// refused.
func FuzzDecodeAvro(f *testing.F) {
	var good bytes.Buffer
	if err := Encode(&good, fuzzRecords()); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:len(good.Bytes())/2])
	f.Add([]byte("Obj\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		_ = Decode(bytes.NewReader(b), func(Record) error { n++; return nil })
	})
}

// FuzzNames: any object name either parses to a time whose window check
// agrees, or is skipped.
func FuzzNames(f *testing.F) {
	at := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	f.Add(ObjectName(at, "abc"))
	f.Add(FirehoseName("eventrelay-archive", 1, at, "0f8fad5b-d9cb-469f-a165-70867728950e"))
	f.Add("events/2026-12-07/")
	f.Fuzz(func(t *testing.T, name string) {
		if at, ok := ParseName(name); ok {
			if _, in := InWindow(name, at.Add(-time.Minute), at.Add(time.Minute)); !in {
				t.Fatalf("%q parses to %s but is not in the window around it", name, at)
			}
		}
		ParseFirehoseName(name)
	})
}
