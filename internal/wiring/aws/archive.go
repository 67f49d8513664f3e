package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"eventrelay.dev/eventrelay/internal/wiring"
	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/archive/s3archive"
	"eventrelay.dev/eventrelay/shared/settings"
)

func init() {
	wiring.RegisterArchive(wiring.Archive{Scheme: s3archive.Scheme, Open: openArchive})
}

// openArchive opens BACKFILL_ARCHIVE=s3://bucket[/prefix]: the bucket the
// module's Firehose stream writes. Backfill's role needs s3:ListBucket on
// the bucket and s3:GetObject on its objects, nothing else. The client
// honours AWS_ENDPOINT_URL_S3, so the same code reads a local stand-in.
func openArchive(ctx context.Context, env *settings.Env, url string) (archive.Reader, wiring.Closer) {
	if _, _, err := s3archive.Parse(url); err != nil {
		env.Fail(settings.BackfillArchive, "%v", err)
		return nil, wiring.NoClose
	}
	client, err := s3Client(ctx, env)
	if err != nil {
		env.Fail(settings.BackfillArchive, "cannot create the S3 client: %v", err)
		return nil, wiring.NoClose
	}
	b, err := s3archive.New(client, url)
	if err != nil {
		env.Fail(settings.BackfillArchive, "%v", err)
		return nil, wiring.NoClose
	}
	return b, wiring.NoClose
}

// s3Client addresses buckets by path when an endpoint is set (a local
// stand-in serves every bucket on its one host), by virtual host on AWS.
func s3Client(ctx context.Context, env *settings.Env) (*s3.Client, error) {
	return sharedClient(ctx, env, "s3", func(cfg aws.Config) *s3.Client {
		return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil })
	})
}
