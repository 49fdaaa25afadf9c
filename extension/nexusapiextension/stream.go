package nexusapiextension

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/livefeed"
)

// streamBuffer is how many events a slow stream client may fall behind by
// before call summaries are dropped for it (and it is told how many).
const streamBuffer = 256

// streamWriteTimeout bounds one write to a stream client: a client that
// stops reading is disconnected rather than holding its buffer forever.
const streamWriteTimeout = 10 * time.Second

func (a *api) streamRoutes() {
	a.route("GET /api/v1/stream", roleViewer, a.stream)
}

// stream is GET /api/v1/stream: Server-Sent Events of live call summaries
// and alert events, filtered by kinds and scope. Alert events carry an id;
// a client reconnecting with Last-Event-ID first gets the alert events it
// missed.
func (a *api) stream(w http.ResponseWriter, r *http.Request) *APIError {
	q := r.URL.Query()
	scope, details := parseScope(q)
	kinds := map[string]bool{livefeed.KindCall: true, livefeed.KindAlert: true}
	if v := q.Get("kinds"); v != "" {
		kinds = map[string]bool{}
		for _, k := range strings.Split(v, ",") {
			if k != livefeed.KindCall && k != livefeed.KindAlert {
				details = append(details, FieldError{Field: "kinds", Message: "comma-separated list of call, alert"})
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
	if details != nil {
		return badRequest("invalid stream request", details...)
	}
	match := func(e livefeed.Event) bool {
		l := e.Labels
		return kinds[e.Kind] &&
			(scope.Provider == "" || l.Provider == scope.Provider) &&
			(scope.Model == "" || l.Model == scope.Model) &&
			(scope.Operation == "" || l.Operation == scope.Operation) &&
			(scope.Service == "" || l.Service == scope.Service) &&
			(scope.Environment == "" || l.Environment == scope.Environment)
	}
	sub, missed := a.feed.Subscribe(streamBuffer, match, after)
	defer sub.Close()

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // proxies must not buffer a live stream
	w.WriteHeader(http.StatusOK)

	// send writes one frame and flushes it, within a deadline.
	send := func(frame string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write([]byte(frame)); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 3000\n: connected\n\n") {
		return nil
	}
	var lastAlert uint64
	for _, e := range missed {
		if !send(frame(e)) {
			return nil
		}
		lastAlert = e.ID
	}
	heartbeat := time.NewTicker(a.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-a.closing:
			return nil
		case e := <-sub.C:
			if e.ID != 0 && e.ID <= lastAlert {
				continue // already sent from the replay
			}
			out := frame(e)
			// Hand the client what is already queued in the same write.
			for more := true; more && len(out) < 64<<10; {
				select {
				case e2 := <-sub.C:
					if e2.ID == 0 || e2.ID > lastAlert {
						out += frame(e2)
					}
				default:
					more = false
				}
			}
			if n := sub.Dropped(); n > 0 {
				out += fmt.Sprintf("event: dropped\ndata: {\"events\":%d}\n\n", n)
			}
			if !send(out) {
				return nil
			}
		case t := <-heartbeat.C:
			if !send(": heartbeat " + t.UTC().Format(time.RFC3339) + "\n\n") {
				a.logger.Debug("stream client gone", zap.String("request_id", requestID(r)))
				return nil
			}
		}
	}
}

// frame renders an event as an SSE frame; alert events carry their id so
// that a reconnecting client can resume after it.
func frame(e livefeed.Event) string {
	var b strings.Builder
	if e.ID != 0 {
		b.WriteString("id: ")
		b.WriteString(strconv.FormatUint(e.ID, 10))
		b.WriteByte('\n')
	}
	b.WriteString("event: ")
	b.WriteString(e.Kind)
	b.WriteString("\ndata: ")
	b.Write(e.Data) // JSON from encoding/json has no raw newlines
	b.WriteString("\n\n")
	return b.String()
}
