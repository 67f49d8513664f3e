// Package mcm sends events to the Moloco MCM User Event API and classifies
// each answer the way Moloco's failure protocol asks: delivered, retry
// later, fix the request (permanent), or check the key.
package mcm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"eventrelay.dev/eventrelay/shared/clip"
)

// Class is what the caller should do with the event.
type Class int

const (
	Delivered  Class = iota + 1 // 2xx
	Retryable                   // 408, 423, 425, 429, 5xx, timeouts, connection errors
	Permanent                   // other 4xx: fix the request, do not retry
	AuthFailed                  // 401, 403: re-read the key once, then permanent
)

func (c Class) String() string {
	switch c {
	case Delivered:
		return "delivered"
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	case AuthFailed:
		return "auth_failed"
	}
	return "unknown"
}

// Result is the outcome of one send.
type Result struct {
	Status     int // 0 when no HTTP answer came
	Class      Class
	RetryAfter time.Duration // from Retry-After, when the platform sent one
	Message    string        // the platform's message, or our description
	Err        error         // transport error, if any
}

// Config configures a Client.
type Config struct {
	BaseURL    string // e.g. https://<platform>-evt.mcm-api.moloco.com (Moloco gives it out)
	PlatformID string
	APIKey     func(ctx context.Context) (string, error)
	HTTPClient *http.Client
	UserAgent  string
}

// Client is safe for concurrent use; make one per instance.
type Client struct {
	url  string
	key  func(ctx context.Context) (string, error)
	http *http.Client
	ua   string
}

// maxRetryAfter caps a Retry-After so one odd header cannot park an event
// for days.
const maxRetryAfter = time.Hour

// maxMessage bounds the platform's message kept in a Result.
const maxMessage = 1024

// loopback reports whether host is this machine: localhost or a loopback
// address (a local stand-in of the API).
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// maxBody bounds how much of an answer is read.
const maxBody = 64 << 10

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("mcm: base URL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		// The API key travels in a header: never in clear over a network.
		return nil, fmt.Errorf("mcm: base URL %q must use https (http only for a loopback host)", cfg.BaseURL)
	}
	if strings.TrimSpace(cfg.PlatformID) == "" {
		return nil, errors.New("mcm: platform id is empty")
	}
	if cfg.APIKey == nil {
		return nil, errors.New("mcm: no API key source")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = NewHTTPClient(10 * time.Second)
	}
	// Never follow a redirect: Go would resend X-API-Key to wherever it
	// points. A 3xx is answered as it is, a permanent failure naming it.
	hc := *cfg.HTTPClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.HTTPClient = &hc
	if cfg.UserAgent == "" {
		cfg.UserAgent = "eventrelay/1"
	}
	return &Client{url: u.String() + "/rmp/event/v1/platforms/" + url.PathEscape(cfg.PlatformID) + "/userevents",
		key: cfg.APIKey, http: cfg.HTTPClient, ua: cfg.UserAgent}, nil
}

// NewHTTPClient returns the one HTTP client an instance should use: keep-
// alive to one host with room for 256 requests in flight (a forwarder
// instance sends each event separately, as the API takes one per call), and
// every phase bounded so a stuck platform costs a retry, not a hung function.
func NewHTTPClient(timeout time.Duration) *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		MaxConnsPerHost:       256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: t, Timeout: timeout}
}

// Send posts one event body (the canonical event JSON, which is the MCM
// body) and classifies the answer.
func (c *Client) Send(ctx context.Context, body []byte) Result {
	key, err := c.key(ctx)
	if err != nil {
		return Result{Class: Retryable, Err: err, Message: "platform API key unavailable: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return Result{Class: Permanent, Err: err, Message: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-API-Key", key)
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.http.Do(req)
	if err != nil {
		return Result{Class: Retryable, Err: err, Message: describeTransport(err)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	// Drained so the connection is reused; a failed drain costs only that.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	res := Result{Status: resp.StatusCode, Class: Classify(resp.StatusCode)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		res.Message = clip.String(fmt.Sprintf("%s: the Events API redirected to %q, which is not followed (the API key is never sent elsewhere); check MCM_BASE_URL",
			resp.Status, resp.Header.Get("Location")), maxMessage)
		return res
	}
	if res.Class != Delivered {
		res.Message = errorMessage(raw, resp.Status)
		res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return res
}

// Classify maps an HTTP status to what to do (wire-formats A.3).
func Classify(status int) Class {
	switch {
	case status >= 200 && status < 300:
		return Delivered
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return AuthFailed
	case status == http.StatusRequestTimeout || status == http.StatusLocked || status == http.StatusTooEarly ||
		status == http.StatusTooManyRequests || status >= 500:
		return Retryable
	}
	return Permanent
}

// errorMessage reads the gRPC-status-shaped error body, or falls back to a
// short slice of whatever came.
func errorMessage(raw []byte, status string) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Message != "" {
		return clip.String(e.Message, maxMessage)
	}
	text := clip.String(strings.TrimSpace(string(raw)), 200)
	if text == "" {
		return status
	}
	return status + ": " + text
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, maxRetryAfter))
}

func describeTransport(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timeout: " + err.Error()
	case errors.Is(err, context.Canceled):
		return "cancelled: " + err.Error()
	}
	return "connection: " + err.Error()
}
