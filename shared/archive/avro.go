package archive

import (
	"fmt"
	"io"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"
)

var schema = avro.MustParse(Schema)

// Decode reads an Avro object container file and calls fn with each
// record, in order. It reads the writer's schema from the file, so a
// file whose fields come in another order, or with more fields, reads the
// same; one without a field a Record needs is refused.
func Decode(r io.Reader, fn func(Record) error) error {
	dec, err := ocf.NewDecoder(r)
	if err != nil {
		return fmt.Errorf("archive file: %w", err)
	}
	if err := hasMetadata(dec.Schema()); err != nil {
		return err
	}
	for i := 0; dec.HasNext(); i++ {
		var rec Record
		if err := dec.Decode(&rec); err != nil {
			return fmt.Errorf("archive record %d: %w", i, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := dec.Error(); err != nil {
		return fmt.Errorf("archive file: %w", err)
	}
	return nil
}

// Encode writes records as one Avro object container file, as the
// subscription does (the local stack's writer and tests use it).
func Encode(w io.Writer, recs []Record) error {
	enc, err := ocf.NewEncoderWithSchema(schema, w, ocf.WithCodec(ocf.Deflate))
	if err != nil {
		return err
	}
	for _, r := range recs {
		r.PublishTime = r.PublishTime.UTC()
		if r.Attributes == nil {
			r.Attributes = map[string]string{}
		}
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("archive record %s: %w", r.MessageID, err)
		}
	}
	return enc.Close()
}

// metadataFields are what replay needs from each record.
var metadataFields = []string{"message_id", "publish_time", "attributes", "data"}

// hasMetadata refuses a file written without write_metadata (data only):
// its events have lost their source, and replay cannot rebuild it.
func hasMetadata(s avro.Schema) error {
	rec, ok := s.(*avro.RecordSchema)
	if !ok {
		return fmt.Errorf("archive file: the schema is a %s, not a record", s.Type())
	}
	have := map[string]bool{}
	for _, f := range rec.Fields() {
		have[f.Name()] = true
	}
	for _, f := range metadataFields {
		if !have[f] {
			return fmt.Errorf("archive file: no %s field; the subscription must write metadata (write_metadata = true)", f)
		}
	}
	return nil
}
