package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
)

// DefaultHTTPTimeout bounds one HTTP request of a channel whose block sets
// no timeout: webhooks answer in well under a second when they are up, and
// a hung one must not eat the whole attempt.
const DefaultHTTPTimeout = 10 * time.Second

const userAgent = "Nexus-Notify/1"

// maxResponseBody is how much of an answer is read: enough for any error
// JSON, bounded so a misbehaving server cannot make us buffer megabytes.
const maxResponseBody = 64 << 10

// newHTTPClient builds a channel's client from its block, so timeout, TLS,
// proxy, headers and auth extensions work as in every collector component.
func newHTTPClient(ctx context.Context, cc confighttp.ClientConfig, host component.Host, set component.TelemetrySettings) (*http.Client, error) {
	if cc.Timeout == 0 {
		cc.Timeout = DefaultHTTPTimeout
	}
	var ext map[component.ID]component.Component
	if host != nil {
		ext = host.GetExtensions()
	}
	return cc.ToClient(ctx, ext, set)
}

type httpResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r httpResponse) ok() bool { return r.status >= 200 && r.status < 300 }

// newPost builds a POST of body. Its error never quotes target: for Slack
// and Discord the URL is the credential.
func newPost(ctx context.Context, target, contentType string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, permanent(fmt.Errorf("build request: %w", err))
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", userAgent)
	return req, nil
}

// do sends req and reads the answer. A request that got no answer comes
// back as an error without the URL; any answer, success or not, comes back
// as a response for the channel to interpret.
func do(client *http.Client, req *http.Request) (httpResponse, error) {
	resp, err := client.Do(req)
	if err != nil {
		return httpResponse{}, transportError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The destination accepted the request; a broken body after that
		// does not make it unsent.
		err = nil
	}
	if err != nil {
		return httpResponse{}, transportError(fmt.Errorf("read answer: %w", err))
	}
	// Drain what is left so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	return httpResponse{status: resp.StatusCode, header: resp.Header, body: body}, nil
}
