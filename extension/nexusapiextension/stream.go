package nexusapiextension

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/schema"
)

// streamBuffer is how many events a slow stream client may fall behind by
// before call summaries are dropped for it (and it is told how many).
const streamBuffer = 128

// streamRetryAfter is what a stream refused for the caps is told to wait:
// streams end when their clients leave, not on a schedule.
const streamRetryAfter = 5 * time.Second

// streamWriteTimeout bounds one write to a stream client: a client that
// stops reading is disconnected rather than holding its buffer forever.
const streamWriteTimeout = 10 * time.Second

func (a *api) streamRoutes() {
	a.handle("GET "+streamPath, roleViewer, routeStream, a.stream)
}

// streamPath is the live stream's path.
const streamPath = "/api/v1/stream"

// stream is GET /api/v1/stream: Server-Sent Events of live call summaries
// and alert events, filtered by kinds and scope. Alert events carry an id;
// a client reconnecting with Last-Event-ID first gets the alert events it
// missed.
func (a *api) stream(w http.ResponseWriter, r *http.Request) *APIError {
	q := r.URL.Query()
	scope, details := parseScope(r)
	kinds := map[string]bool{livefeed.KindCall: true, livefeed.KindAlert: true, livefeed.KindBudget: true}
	if v := q.Get("kinds"); v != "" {
		known := kinds
		kinds = map[string]bool{}
		for _, k := range strings.Split(v, ",") {
			if !known[k] {
				details = append(details, FieldError{Field: "kinds", Message: "comma-separated list of call, alert, budget"})
				break
			}
			kinds[k] = true
		}
	}
	var after uint64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			details = append(details, FieldError{Field: "Last-Event-ID", Message: "must be the id of an event this stream sent"})
		}
		after = n
	}
	if scope.TagKey != "" {
		// Calls on the feed carry no tags: the filter could never match.
		details = append(details, FieldError{Field: "tag." + scope.TagKey, Message: "not available: the live feed's calls carry no tags"})
	}
	if details != nil {
		return badRequest("invalid stream request", details...)
	}
	filter := streamFilter{scope: scope.Scope, call: kinds[livefeed.KindCall], alert: kinds[livefeed.KindAlert], budget: kinds[livefeed.KindBudget]}
	// Registered before anything is held for it: past the caps it is a
	// 429 like any other. The registry ends it (cancel) when its key is
	// revoked.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	reg, apiErr := a.streams.open(keyIDOf(r), cancel)
	if apiErr != nil {
		setRetryAfter(w, streamRetryAfter)
		return apiErr
	}
	defer a.streams.close(reg)
	// Streams with the same filter are matched once per event.
	sub, missed := a.feed.SubscribeShared(streamBuffer, filter, filter.match, after)
	defer sub.Close()

	out, err := openStream(w, requestID(r), cancel)
	if err != nil {
		a.logger.Debug("stream not opened", zap.String("request_id", requestID(r)), zap.Error(err))
		return nil
	}
	defer out.close()
	write, flush := out.write, out.flush
	if !write([]byte("retry: 3000\n: connected\n\n")) || !flush() {
		return nil
	}
	var lastAlert uint64
	for _, e := range missed {
		if !write(e.Frame()) {
			return nil
		}
		lastAlert = e.ID
	}
	if !flush() {
		return nil
	}
	heartbeat := time.NewTicker(a.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.closing:
			return nil
		case e := <-sub.C:
			ok := true
			// Hand the client what is already queued in the same write; an
			// alert already sent from the replay is skipped.
			for more := true; more && ok; {
				if e.ID == 0 || e.ID > lastAlert {
					ok = write(e.Frame())
				}
				select {
				case e = <-sub.C:
				default:
					more = false
				}
			}
			if n := sub.Dropped(); n > 0 && ok {
				ok = write(fmt.Appendf(nil, "event: dropped\ndata: {\"events\":%d}\n\n", n))
			}
			if !ok || !flush() {
				return nil
			}
		case t := <-heartbeat.C:
			if !write([]byte(": heartbeat "+t.UTC().Format(time.RFC3339)+"\n\n")) || !flush() {
				a.logger.Debug("stream client gone", zap.String("request_id", requestID(r)))
				return nil
			}
		}
	}
}

// streamFilter is what a stream shows: its match depends on nothing
// else, so that streams with equal filters can share one match per event.
type streamFilter struct {
	scope               schema.Scope
	call, alert, budget bool
}

func (f streamFilter) match(e *livefeed.Event) bool {
	l := e.Labels
	tenant := l.Tenant
	if tenant == "" {
		tenant = schema.DefaultTenant
	}
	var kind bool
	switch e.Kind {
	case livefeed.KindCall:
		kind = f.call
	case livefeed.KindAlert:
		kind = f.alert
	case livefeed.KindBudget:
		kind = f.budget
	}
	s := f.scope
	// Another tenant's event never reaches this stream, whatever else it
	// matches.
	return tenant == s.Tenant && kind &&
		(s.Provider == "" || l.Provider == s.Provider) &&
		(s.Model == "" || l.Model == s.Model) &&
		(s.Operation == "" || l.Operation == s.Operation) &&
		(s.Service == "" || l.Service == s.Service) &&
		(s.Environment == "" || l.Environment == s.Environment) &&
		(s.Customer == "" || l.Customer == s.Customer) &&
		(s.User == "" || l.User == s.User) &&
		(s.Team == "" || l.Team == s.Team) &&
		(s.Feature == "" || l.Feature == s.Feature)
}

// sseConn is an open stream. Over HTTP/1.1 the connection is taken over
// (hijacked) and frames are written to it directly: with ten thousand
// clients, every layer between a frame and the socket — chunked encoding,
// the response buffer, the server's instrumentation — costs delivery
// latency for the clients served last. Where the connection cannot be
// taken (HTTP/2), frames go through the ResponseWriter.
type sseConn struct {
	write func([]byte) bool
	flush func() bool
	close func()
}

// gone is called when the client closes the connection.
func openStream(w http.ResponseWriter, requestID string, gone func()) (*sseConn, error) {
	rc := http.NewResponseController(w)
	conn, buf, err := rc.Hijack()
	if err != nil {
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		var deadline time.Time
		// A writer that cannot be hijacked (HTTP/2, tests) streams through
		// the ResponseWriter instead: not an error.
		return &sseConn{ //nolint:nilerr // see above
			write: func(b []byte) bool { _, err := w.Write(b); return err == nil },
			flush: func() bool {
				if now := time.Now(); deadline.Sub(now) < streamWriteTimeout/2 {
					deadline = now.Add(streamWriteTimeout)
					_ = rc.SetWriteDeadline(deadline)
				}
				return rc.Flush() == nil
			},
			close: func() {},
		}, nil
	}
	// The body has no length and ends when the connection closes, which
	// HTTP/1.1 allows with Connection: close.
	_ = conn.SetDeadline(time.Time{})
	// The server no longer watches a taken-over connection: a read that
	// ends tells that the client has gone.
	go func() {
		_, _ = io.Copy(io.Discard, buf)
		gone()
	}()
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n" +
		"X-Accel-Buffering: no\r\nX-Request-Id: " + requestID + "\r\nConnection: close\r\n\r\n"
	pending := []byte(head)
	var deadline time.Time
	s := &sseConn{close: func() { _ = conn.Close() }}
	s.write = func(b []byte) bool { pending = append(pending, b...); return true }
	s.flush = func() bool {
		if now := time.Now(); deadline.Sub(now) < streamWriteTimeout/2 {
			deadline = now.Add(streamWriteTimeout)
			_ = conn.SetWriteDeadline(deadline)
		}
		_, err := conn.Write(pending)
		pending = pending[:0]
		return err == nil
	}
	return s, nil
}
