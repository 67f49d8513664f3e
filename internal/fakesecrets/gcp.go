// Package fakesecrets serves the parts of Google Secret Manager's gRPC API
// and AWS Secrets Manager's JSON API that eventrelay calls, on loopback, so
// tests and local runs use the real client libraries end to end. Neither
// service has an emulator that can be installed here.
package fakesecrets

import (
	"context"
	"fmt"
	"hash/crc32"
	"net"
	"strconv"
	"strings"
	"sync"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// GCP is a Secret Manager server holding versioned secrets.
type GCP struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer
	mu          sync.Mutex
	versions    map[string][][]byte // secret name (projects/P/secrets/S) → versions 1..n
	calls       map[string]int
	badChecksum bool
	srv         *grpc.Server
	Addr        string
}

// StartGCP serves on a free loopback port.
func StartGCP() (*GCP, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g := &GCP{versions: map[string][][]byte{}, calls: map[string]int{}, srv: grpc.NewServer(), Addr: ln.Addr().String()}
	secretmanagerpb.RegisterSecretManagerServiceServer(g.srv, g)
	// Serve returns nil once Stop is called; a listener that fails shows as
	// every client call failing.
	go func() { _ = g.srv.Serve(ln) }()
	return g, nil
}

// ClientOptions point the real client at this server.
func (g *GCP) ClientOptions() []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(g.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
}

// Set adds a new version to secret (projects/P/secrets/S), as a rotation does.
func (g *GCP) Set(secret, value string) {
	g.mu.Lock()
	g.versions[secret] = append(g.versions[secret], []byte(value))
	g.mu.Unlock()
}

// CorruptChecksums makes the server send wrong CRC32C values.
func (g *GCP) CorruptChecksums(on bool) {
	g.mu.Lock()
	g.badChecksum = on
	g.mu.Unlock()
}

// Calls counts AccessSecretVersion calls per secret.
func (g *GCP) Calls(secret string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[secret]
}

// Close stops the server.
func (g *GCP) Close() { g.srv.Stop() }

// AccessSecretVersion implements the one method the client calls.
func (g *GCP) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	secret, version, ok := strings.Cut(req.GetName(), "/versions/")
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "name %q has no version", req.GetName())
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls[secret]++
	vs := g.versions[secret]
	n := len(vs)
	if version != "latest" {
		var err error
		if n, err = strconv.Atoi(version); err != nil || n < 1 || n > len(vs) {
			return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", req.GetName())
		}
	}
	if n == 0 {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found or has no versions.", secret)
	}
	data := vs[n-1]
	crc := int64(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	if g.badChecksum {
		crc++
	}
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name:    fmt.Sprintf("%s/versions/%d", secret, n),
		Payload: &secretmanagerpb.SecretPayload{Data: data, DataCrc32C: &crc},
	}, nil
}
