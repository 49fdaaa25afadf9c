package nexusapiextension

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/notify"
	"github.com/nexus-otel/nexus/internal/store"
)

// Event states: an instance goes ok → pending → firing → resolved; a
// pending one whose condition clears before the for-duration goes back to
// ok. Only firing and resolved are announced.
const (
	statePending  = "pending"
	stateFiring   = notify.StateFiring
	stateResolved = notify.StateResolved
	stateOK       = "ok"
)

var eventStates = []string{statePending, stateFiring, stateResolved, stateOK}

// eventsDefaultSpan is the range GET /alerts/events reads without from/to.
const eventsDefaultSpan = 30 * 24 * time.Hour

// delivery is the progress of one event's notification on one channel.
type delivery struct {
	Channel  string    `json:"channel"`
	Status   string    `json:"status"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
}

func (d delivery) final() bool {
	return d.Status == notify.DeliverySent || d.Status == notify.DeliveryFailed
}

// alertEvent is one state change (or re-notification) of one instance of
// a rule.
type alertEvent struct {
	ID        string            `json:"id"`
	RuleID    string            `json:"ruleId"`
	RuleName  string            `json:"ruleName"`
	Kind      string            `json:"kind"`
	Instance  string            `json:"instance"`
	Labels    map[string]string `json:"labels"`
	State     string            `json:"state"`
	Severity  string            `json:"severity"`
	Value     decimal.Decimal   `json:"value"`
	Threshold decimal.Decimal   `json:"threshold"`
	Message   string            `json:"message"`
	StartedAt time.Time         `json:"startedAt"`
	At        time.Time         `json:"at"`
	// Notification numbers the announcements of one firing episode: 1 the
	// first, 2… re-notifications; 0 for states that are not announced.
	Notification int        `json:"notification"`
	DedupKey     string     `json:"dedupKey"`
	Deliveries   []delivery `json:"deliveries"`
	AckedAt      *time.Time `json:"ackedAt"`
	AckedBy      string     `json:"ackedBy"`
	version      time.Time
}

func (e *alertEvent) clone() *alertEvent {
	c := *e
	c.Deliveries = slices.Clone(e.Deliveries)
	return &c
}

// dedupKey is the same for one announcement of one state change on every
// collector: rule, instance, state and when the episode started (plus the
// re-notification number after the first), so a receiver seeing it twice
// — a retry, a fail-over — can drop the copy.
func dedupKey(ruleID, instance, state string, startedAt time.Time, seq int) string {
	h := sha256.New()
	for _, part := range []string{ruleID, instance, state, startedAt.UTC().Format("2006-01-02T15:04:05.000Z")} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	if state == stateFiring && seq > 1 {
		h.Write([]byte(strconv.Itoa(seq)))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

var eventColumns = []string{"id", "rule_id", "rule_name", "kind", "instance", "labels", "provider", "model", "operation",
	"service", "environment", "state", "severity", "value", "threshold", "message", "started_at", "at", "notify_seq",
	"dedup_key", "deliveries", "acked_at", "acked_by", "version"}

// eventSelect reads eventColumns (as scanEvent expects) from src.
const eventSelect = "SELECT id, rule_id, rule_name, kind, instance, labels, state, severity, value, threshold, message, " +
	"started_at, at, notify_seq, dedup_key, deliveries, acked_at, acked_by, version"

// writeEvent stores e as a new version of its row.
func (al *alerting) writeEvent(ctx context.Context, e *alertEvent) error {
	deliveries, err := json.Marshal(e.Deliveries)
	if err != nil {
		return fmt.Errorf("encode deliveries of event %s: %w", e.ID, err)
	}
	batch, err := al.a.store.PrepareBatch(ctx, "alert_events", eventColumns)
	if err != nil {
		return fmt.Errorf("prepare alert_events insert: %w", err)
	}
	// Versions only grow, even within one clock tick: FINAL keeps the
	// highest, and a tie would make the winner arbitrary.
	v := time.Now().UTC().Truncate(time.Microsecond)
	if !v.After(e.version) {
		v = e.version.Add(time.Microsecond)
	}
	var acked any
	if e.AckedAt != nil {
		acked = *e.AckedAt
	}
	l := e.Labels
	if err := batch.Append(e.ID, e.RuleID, e.RuleName, e.Kind, e.Instance, l, l["provider"], l["model"], l["operation"],
		l["service"], l["environment"], e.State, e.Severity, e.Value.Round(thresholdDecimals), e.Threshold.Round(thresholdDecimals),
		e.Message, e.StartedAt, e.At, uint32(e.Notification), e.DedupKey, string(deliveries), acked, e.AckedBy, v); err != nil {
		_ = batch.Abort()
		return fmt.Errorf("append alert_events row: %w", err)
	}
	if err := batch.Send(ctx); err != nil {
		return fmt.Errorf("insert alert_events row: %w", err)
	}
	e.version = v
	return nil
}

// readEvents runs an eventSelect query.
func (al *alerting) readEvents(ctx context.Context, q string, params store.Params) ([]*alertEvent, error) {
	rows, err := al.a.store.Query(ctx, q, params)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*alertEvent
	for rows.Next() {
		e := &alertEvent{}
		var seq uint32
		var deliveries string
		var acked *time.Time
		if err := rows.Scan(&e.ID, &e.RuleID, &e.RuleName, &e.Kind, &e.Instance, &e.Labels, &e.State, &e.Severity,
			&e.Value, &e.Threshold, &e.Message, &e.StartedAt, &e.At, &seq, &e.DedupKey, &deliveries, &acked,
			&e.AckedBy, &e.version); err != nil {
			return nil, err
		}
		e.Notification = int(seq)
		e.StartedAt, e.At = e.StartedAt.UTC(), e.At.UTC()
		if acked != nil {
			t := acked.UTC()
			e.AckedAt = &t
		}
		if e.Labels == nil {
			e.Labels = map[string]string{}
		}
		if err := json.Unmarshal([]byte(deliveries), &e.Deliveries); err != nil || e.Deliveries == nil {
			e.Deliveries = []delivery{}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// readEvent is the latest version of event id, or nil.
func (al *alerting) readEvent(ctx context.Context, id string) (*alertEvent, error) {
	evs, err := al.readEvents(ctx, eventSelect+" FROM "+al.a.store.Database()+".alert_events FINAL WHERE id = {id:String}",
		store.Params{"id": id})
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	return evs[0], nil
}

// publish puts e on the live feed: the in-app channel's push.
func (al *alerting) publish(e *alertEvent) {
	data, err := json.Marshal(e)
	if err != nil {
		al.a.logger.Warn("cannot encode alert event for the live feed", zap.String("event_id", e.ID), zap.Error(err))
		return
	}
	l := e.Labels
	al.a.feed.Publish(livefeed.Event{Kind: livefeed.KindAlert, Data: data, Labels: livefeed.Labels{
		Provider: l["provider"], Model: l["model"], Operation: l["operation"], Service: l["service"], Environment: l["environment"]}})
}

// --- delivery progress ---

// deliveryLog writes the dispatcher's delivery reports into the events.
// Reports arrive on the dispatcher's workers, which must not wait for the
// store: they are folded into the in-memory event and written by one
// goroutine, several reports of one event in one row.
type deliveryLog struct {
	al       *alerting
	mu       sync.Mutex
	inflight map[string]*alertEvent // events with deliveries not yet final
	dirty    map[string]int         // event id → failed writes so far
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

// maxDeliveryWriteAttempts bounds the retries of one event's delivery
// update when the store refuses it.
const maxDeliveryWriteAttempts = 5

func newDeliveryLog(al *alerting) *deliveryLog {
	return &deliveryLog{al: al, inflight: map[string]*alertEvent{}, dirty: map[string]int{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// track keeps e until its deliveries are final.
func (l *deliveryLog) track(e *alertEvent) {
	l.mu.Lock()
	l.inflight[e.ID] = e.clone()
	l.mu.Unlock()
}

// onDelivery is the dispatcher's report of one delivery's progress.
func (l *deliveryLog) onDelivery(d notify.Delivery) {
	l.mu.Lock()
	e, ok := l.inflight[d.EventID]
	if !ok {
		l.mu.Unlock()
		l.al.a.logger.Debug("delivery report for an event not in flight", zap.String("event_id", d.EventID), zap.String("channel", d.Channel))
		return
	}
	nd := delivery{Channel: d.Channel, Status: d.Status, Attempts: d.Attempts, Error: d.Error, At: d.At.UTC().Truncate(time.Millisecond)}
	i := slices.IndexFunc(e.Deliveries, func(x delivery) bool { return x.Channel == d.Channel })
	switch {
	case i < 0:
		e.Deliveries = append(e.Deliveries, nd)
		slices.SortFunc(e.Deliveries, func(a, b delivery) int { return strings.Compare(a.Channel, b.Channel) })
	case e.Deliveries[i].Status == nd.Status && e.Deliveries[i].Attempts == nd.Attempts && e.Deliveries[i].Error == nd.Error:
		l.mu.Unlock()
		return // the row already says so
	default:
		e.Deliveries[i] = nd
	}
	if _, ok := l.dirty[d.EventID]; !ok {
		l.dirty[d.EventID] = 0
	}
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *deliveryLog) run() {
	defer close(l.done)
	for {
		select {
		case <-l.kick:
			l.flush()
		case <-l.stop:
			l.flush()
			return
		}
	}
}

// flush writes every event with new delivery progress.
func (l *deliveryLog) flush() {
	l.mu.Lock()
	type job struct {
		e     *alertEvent
		tries int
	}
	jobs := make([]job, 0, len(l.dirty))
	for id, tries := range l.dirty {
		e := l.inflight[id]
		jobs = append(jobs, job{e.clone(), tries})
		if !slices.ContainsFunc(e.Deliveries, func(d delivery) bool { return !d.final() }) {
			delete(l.inflight, id)
		}
	}
	clear(l.dirty)
	l.mu.Unlock()

	for _, j := range jobs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := l.al.updateEvent(ctx, j.e.ID, j.e, func(stored *alertEvent) { stored.Deliveries = j.e.Deliveries })
		cancel()
		if err == nil {
			continue
		}
		l.al.a.logger.Warn("cannot record alert delivery progress", zap.String("event_id", j.e.ID), zap.Int("attempt", j.tries+1), zap.Error(err))
		if j.tries+1 < maxDeliveryWriteAttempts {
			l.mu.Lock()
			if _, ok := l.inflight[j.e.ID]; !ok {
				l.inflight[j.e.ID] = j.e
			}
			l.dirty[j.e.ID] = j.tries + 1
			l.mu.Unlock()
		}
	}
	l.mu.Lock()
	again := len(l.dirty) > 0
	l.mu.Unlock()
	if again {
		// Retried on the next report, or after a pause if none comes.
		time.AfterFunc(time.Second, func() {
			select {
			case l.kick <- struct{}{}:
			default:
			}
		})
	}
}

// updateEvent applies change to the stored latest version of event id and
// writes it as a newer version. Reading the row first keeps what another
// writer (an acknowledgement) put there; the process-wide lock keeps this
// process's writers from interleaving. When the row is missing (its first
// write failed) it is written from fallback.
func (al *alerting) updateEvent(ctx context.Context, id string, fallback *alertEvent, change func(*alertEvent)) error {
	al.eventWrites.Lock()
	defer al.eventWrites.Unlock()
	e, err := al.readEvent(ctx, id)
	if err != nil {
		return fmt.Errorf("read event %s: %w", id, err)
	}
	if e == nil {
		if fallback == nil {
			return fmt.Errorf("event %s not found", id)
		}
		e = fallback.clone()
	}
	change(e)
	return al.writeEvent(ctx, e)
}

// --- API ---

func (al *alerting) parseEventFilters(r *http.Request) (string, store.Params, string, page, *APIError) {
	a := al.a
	var details []FieldError
	f, ferr := a.parseFilters(r, eventsDefaultSpan)
	if ferr != nil {
		details = append(details, ferr.Details...)
	}
	pg, perr := parsePage(r)
	if perr != nil {
		details = append(details, perr.Details...)
	}
	q := r.URL.Query()
	cond, params := f.where("at")
	if v := q.Get("rule"); v != "" {
		cond += " AND rule_id = {rule:String}"
		params["rule"] = v
	}
	if v := q.Get("kind"); v != "" {
		if !slices.Contains(ruleKinds, v) {
			details = append(details, FieldError{Field: "kind", Message: "must be one of " + strings.Join(ruleKinds, ", ")})
		}
		cond += " AND kind = {kind:String}"
		params["kind"] = v
	}
	if v := q.Get("state"); v != "" {
		states := strings.Split(v, ",")
		for _, s := range states {
			if !slices.Contains(eventStates, s) {
				details = append(details, FieldError{Field: "state", Message: "comma-separated list of " + strings.Join(eventStates, ", ")})
				break
			}
		}
		cond += " AND state IN {states:Array(String)}"
		params["states"] = stringArrayParam(states)
	}
	if v := q.Get("severity"); v != "" {
		if !slices.Contains(severities, v) {
			details = append(details, FieldError{Field: "severity", Message: "must be one of " + strings.Join(severities, ", ")})
		}
		cond += " AND severity = {severity:String}"
		params["severity"] = v
	}
	// Acknowledgement changes between versions of a row, so it is tested
	// after FINAL has picked the latest (the outer condition).
	outer := ""
	switch q.Get("acked") {
	case "":
	case "true":
		outer = " WHERE acked_at IS NOT NULL"
	case "false":
		outer = " WHERE acked_at IS NULL"
	default:
		details = append(details, FieldError{Field: "acked", Message: "must be true or false"})
	}
	if details != nil {
		return "", nil, "", pg, badRequest("invalid filters", details...)
	}
	return cond, params, outer, pg, nil
}

func (al *alerting) listEvents(w http.ResponseWriter, r *http.Request) *APIError {
	cond, params, outer, pg, apiErr := al.parseEventFilters(r)
	if apiErr != nil {
		return apiErr
	}
	inner := "(" + eventSelect + " FROM " + al.a.store.Database() + ".alert_events FINAL WHERE " + cond + ")"
	total, err := al.a.count(r.Context(), "SELECT count() FROM "+inner+outer, params)
	if err != nil {
		return al.a.storeError(r, "count alert events", err)
	}
	out := []*alertEvent{}
	if pg.offset() < total {
		params["limit"] = strconv.Itoa(pg.Limit)
		params["offset"] = strconv.FormatInt(pg.offset(), 10)
		out, err = al.readEvents(r.Context(), eventSelect+" FROM "+inner+outer+
			" ORDER BY at DESC, id DESC LIMIT {limit:UInt32} OFFSET {offset:UInt64}", params)
		if err != nil {
			return al.a.storeError(r, "list alert events", err)
		}
	}
	writeData(w, http.StatusOK, out, pg.of(total))
	return nil
}

func (al *alerting) getEvent(w http.ResponseWriter, r *http.Request) *APIError {
	e, err := al.readEvent(r.Context(), r.PathValue("id"))
	if err != nil {
		return al.a.storeError(r, "read alert event", err)
	}
	if e == nil {
		return notFound("no alert event " + r.PathValue("id"))
	}
	writeData(w, http.StatusOK, e, nil)
	return nil
}

// ackEvent acknowledges a firing event: someone is on it. A firing alert
// acknowledged in any of its announcements is not re-notified.
func (al *alerting) ackEvent(w http.ResponseWriter, r *http.Request) *APIError {
	id := r.PathValue("id")
	by, _ := r.Context().Value(ctxKeyID).(string)
	al.a.keys.mu.RLock()
	if k, ok := al.a.keys.byID[by]; ok {
		by = k.Name + " (" + k.ID + ")"
	}
	al.a.keys.mu.RUnlock()

	al.eventWrites.Lock()
	defer al.eventWrites.Unlock()
	e, err := al.readEvent(r.Context(), id)
	if err != nil {
		return al.a.storeError(r, "read alert event", err)
	}
	if e == nil {
		return notFound("no alert event " + id)
	}
	if e.State != stateFiring {
		return conflict("only firing events can be acknowledged; event " + id + " is " + e.State)
	}
	if e.AckedAt != nil {
		return conflict("event " + id + " was already acknowledged by " + e.AckedBy + " at " + e.AckedAt.Format(time.RFC3339))
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	e.AckedAt, e.AckedBy = &now, by
	// The caller may hang up; the acknowledgement must still be stored.
	if err := al.writeEvent(context.WithoutCancel(r.Context()), e); err != nil {
		return al.a.storeError(r, "acknowledge alert event", err)
	}
	al.a.logger.Info("alert event acknowledged", zap.String("event_id", id), zap.String("rule_id", e.RuleID), zap.String("by", by))
	writeData(w, http.StatusOK, e, nil)
	return nil
}
