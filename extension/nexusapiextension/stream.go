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
const streamBuffer = 128

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
	match := func(e *livefeed.Event) bool {
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

	// Frames go to the connection's buffer and are flushed together, in
	// one write, within a deadline.
	flush := func() bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		return rc.Flush() == nil
	}
	write := func(b []byte) bool {
		_, err := w.Write(b)
		return err == nil
	}
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
		case <-r.Context().Done():
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
