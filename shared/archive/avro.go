package archive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"
)

var schema = avro.MustParse(Schema)

// MaxFileBytes is the largest archive file Decode reads: the subscription
// closes a file at 10 MiB (terraform/modules/gcp/archive.tf, max_bytes),
// so anything far larger is not one of its files.
const MaxFileBytes = 64 << 20

// Decode reads an Avro object container file and calls fn with each
// record, in order. It reads the writer's schema from the file, so a
// file whose fields come in another order, or with more fields, reads the
// same; one without a field a Record needs is refused. A file whose
// framing is corrupt is refused before it is decoded (checkContainer).
func Decode(r io.Reader, fn func(Record) error) (err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return fmt.Errorf("archive file: %w", err)
	}
	if len(data) > MaxFileBytes {
		return fmt.Errorf("archive file: larger than %d bytes, not a file the subscription writes", MaxFileBytes)
	}
	if err := checkContainer(data); err != nil {
		return err
	}
	// The decoder panics on framing it does not expect (found by
	// FuzzDecodeAvro); checkContainer refuses what is known, this the rest.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w (%v)", errMalformed, p)
		}
	}()
	dec, err := ocf.NewDecoder(bytes.NewReader(data))
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

var errMalformed = errors.New("archive file: not a well-formed Avro object container file")

// checkContainer walks an object container's framing (the magic, the
// metadata map, the sync marker, then each block's count, size, data and
// sync marker) and refuses any length that points past the end of the
// file: the decoder allocates a block's stated size before reading it, so
// one corrupt length would panic or exhaust memory (FuzzDecodeAvro).
func checkContainer(b []byte) error {
	if !bytes.HasPrefix(b, []byte("Obj\x01")) {
		return errMalformed
	}
	p := 4
	long := func() (int64, bool) { // Avro's long is a zig-zag varint, as Go's
		v, n := binary.Varint(b[p:])
		if n <= 0 {
			return 0, false
		}
		p += n
		return v, true
	}
	skip := func(n int64) bool {
		if n < 0 || n > int64(len(b)-p) {
			return false
		}
		p += int(n)
		return true
	}
	for { // the metadata map: blocks of count entries (string key, bytes value)
		count, ok := long()
		if !ok {
			return errMalformed
		}
		if count == 0 {
			break
		}
		if count < 0 { // a negative count is followed by the block's size
			if _, ok := long(); !ok || count == -count {
				return errMalformed
			}
			count = -count
		}
		for ; count > 0; count-- {
			for range 2 {
				n, ok := long()
				if !ok || !skip(n) {
					return errMalformed
				}
			}
		}
	}
	if !skip(16) {
		return errMalformed
	}
	for p < len(b) {
		count, ok := long()
		if !ok || count < 0 {
			return errMalformed
		}
		size, ok := long()
		if !ok || !skip(size) || !skip(16) {
			return errMalformed
		}
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
