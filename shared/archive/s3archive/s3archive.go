// Package s3archive is the archive in an S3 bucket, where the AWS module's
// Firehose stream writes it (gzip'd SNS envelopes, archive.SNSEnvelopes):
// BACKFILL_ARCHIVE=s3://bucket[/prefix]. It is an archive.Reader, so
// backfill replays from it as from a Cloud Storage bucket or the local
// stack's folder.
package s3archive

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"eventrelay.dev/eventrelay/shared/archive"
)

// Scheme is the URL scheme BACKFILL_ARCHIVE names a bucket with.
const Scheme = "s3"

// Bucket is the archive under a prefix of a bucket. Object keys are the
// prefix + the archive's own names (events/YYYY-MM-DD/…); Files and Open
// speak the archive's names, so a cursor saved against one bucket path
// reads the same against a copy elsewhere.
type Bucket struct {
	client *s3.Client
	bucket string
	prefix string // "" or ending in "/"
}

// bucketName is S3's rule for a general purpose bucket's name: 3 to 63
// lower-case letters, digits, '.' and '-', starting and ending with a
// letter or digit.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// Parse reads s3://bucket[/prefix]; the prefix comes back ending in "/".
func Parse(url string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(url, Scheme+"://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3://bucket[/prefix] URL", url)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if !bucketName.MatchString(bucket) || strings.Contains(bucket, "..") {
		return "", "", fmt.Errorf("%q: %q is not an S3 bucket name", url, bucket)
	}
	if strings.ContainsAny(prefix, "?#\\") || slices.Contains(strings.Split(prefix, "/"), "..") {
		return "", "", fmt.Errorf("%q: the prefix %q is not a plain key path", url, prefix)
	}
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		prefix += "/"
	}
	return bucket, prefix, nil
}

// New is the archive url read with client. Nothing is asked of the bucket
// until a replay lists it.
func New(client *s3.Client, url string) (*Bucket, error) {
	bucket, prefix, err := Parse(url)
	if err != nil {
		return nil, err
	}
	return &Bucket{client: client, bucket: bucket, prefix: prefix}, nil
}

// Location implements archive.Reader.
func (b *Bucket) Location() string { return Scheme + "://" + b.bucket + "/" + b.prefix }

// Files implements archive.Reader. It lists only the day folders the
// window touches (the stream's names start with its own name, not the
// time, so a day is listed whole: at most a few hundred keys at the
// largest buffer interval), keys only.
func (b *Bucket) Files(ctx context.Context, from, to time.Time) ([]archive.File, error) {
	if err := archive.CheckWindow(from, to); err != nil {
		return nil, err
	}
	var out []archive.File
	for _, day := range archive.DayPrefixes(from, to) {
		pages := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket),
			Prefix: aws.String(b.prefix + day)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("archive list %s: %w", b.Location()+day, err)
			}
			for _, obj := range page.Contents {
				name := strings.TrimPrefix(aws.ToString(obj.Key), b.prefix)
				if t, ok := archive.ParseFirehoseName(name); ok && !t.Before(from) && t.Before(to) {
					out = append(out, archive.File{Name: name, Start: t, Format: archive.SNSEnvelopes})
				}
			}
		}
	}
	slices.SortFunc(out, func(x, y archive.File) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// Open implements archive.Reader: the object is read as the caller reads,
// not fetched whole first. Only the stream's object names are opened, so a
// cursor or a request cannot point it elsewhere.
func (b *Bucket) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if _, ok := archive.ParseFirehoseName(name); !ok {
		return nil, fmt.Errorf("archive open: %q is not an archive object name", name)
	}
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.prefix + name)})
	if err != nil {
		return nil, fmt.Errorf("archive open %s%s: %w", b.Location(), name, err)
	}
	return out.Body, nil
}
