// Package sdkload sends concurrent streamed chat calls through the
// official OpenAI SDK, as the apps behind the proxy do, and sorts how each
// ended: for the tests of budget enforcement, in the receiver and through
// the built binary alike.
package sdkload

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// CountingTransport counts the requests an SDK sends, its retries
// included.
type CountingTransport struct {
	n  atomic.Int64
	rt http.Transport
}

// RoundTrip sends r, counting it.
func (c *CountingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

// Sent is how many requests went out.
func (c *CountingTransport) Sent() int64 { return c.n.Load() }

// Close drops the idle connections (a server's shutdown waits for new
// ones that never sent a request).
func (c *CountingTransport) Close() { c.rt.CloseIdleConnections() }

// Outcome is how n calls ended.
type Outcome struct {
	// Passed streamed to the end; Refused got the proxy's 402
	// budget_exceeded; Other are the errors of the rest.
	Passed, Refused int64
	Other           []error
	// Sent is the requests the SDK sent for them, retries included.
	Sent int64
}

// Stream sends n streamed chat calls at once to baseURL (the proxy's
// OpenAI route), each asking for at most maxTokens.
func Stream(ctx context.Context, baseURL string, n int, model string, maxTokens int64) Outcome {
	counting := &CountingTransport{}
	defer counting.Close()
	client := openai.NewClient(option.WithBaseURL(baseURL), option.WithAPIKey("sk-app"),
		option.WithHTTPClient(&http.Client{Transport: counting}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var out Outcome
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: model,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}, MaxTokens: openai.Int(maxTokens)})
			for stream.Next() {
			}
			var apiErr *openai.Error
			mu.Lock()
			defer mu.Unlock()
			switch err := stream.Err(); {
			case err == nil:
				out.Passed++
			case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusPaymentRequired && apiErr.Type == "budget_exceeded":
				out.Refused++
			default:
				out.Other = append(out.Other, err)
			}
		}()
	}
	wg.Wait()
	out.Sent = counting.Sent()
	return out
}
