// Package gcpsecrets reads secrets from Google Secret Manager with the
// official client.
package gcpsecrets

import (
	"context"
	"fmt"
	"hash/crc32"
	"strings"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eventrelay.dev/eventrelay/shared/secrets"
)

// Source is a secrets.Source on Secret Manager.
type Source struct {
	client *secretmanager.Client
}

// New creates a client (Application Default Credentials unless opts say
// otherwise).
func New(ctx context.Context, opts ...option.ClientOption) (*Source, error) {
	c, err := secretmanager.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("secret manager client: %w", err)
	}
	return &Source{client: c}, nil
}

// Close releases the client.
func (s *Source) Close() error { return s.client.Close() }

// VersionName turns projects/P/secrets/S into .../versions/latest and
// accepts a full version name as is.
func VersionName(name string) (string, error) {
	parts := strings.Split(name, "/")
	ok := len(parts) >= 4 && parts[0] == "projects" && parts[1] != "" && parts[2] == "secrets" && parts[3] != ""
	switch {
	case ok && len(parts) == 4:
		return name + "/versions/latest", nil
	case ok && len(parts) == 6 && parts[4] == "versions" && parts[5] != "":
		return name, nil
	}
	return "", fmt.Errorf("secret name %q is not projects/<project>/secrets/<id>[/versions/<version>]", name)
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Get implements secrets.Source.
func (s *Source) Get(ctx context.Context, name string) ([]byte, error) {
	version, err := VersionName(name)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: version})
	switch status.Code(err) {
	case codes.OK:
	case codes.NotFound:
		return nil, fmt.Errorf("%s: %w", version, secrets.ErrNotFound)
	case codes.PermissionDenied:
		return nil, fmt.Errorf("%s: permission denied (grant roles/secretmanager.secretAccessor on this secret): %w", version, err)
	default:
		return nil, fmt.Errorf("access %s: %w", version, err)
	}
	data := resp.GetPayload().GetData()
	if want := resp.GetPayload().DataCrc32C; want != nil && int64(crc32.Checksum(data, crcTable)) != *want {
		return nil, fmt.Errorf("access %s: payload checksum mismatch (corrupted in transit)", version)
	}
	return data, nil
}
