package alerting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/notify"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Event states: an instance goes ok → pending → firing → resolved; a
// pending one whose condition clears before the for-duration goes back to
// ok. Only firing and resolved are announced.
const (
	StatePending  = "pending"
	StateFiring   = notify.StateFiring
	StateResolved = notify.StateResolved
	StateOK       = "ok"
)

// Short names inside the package.
const (
	statePending  = StatePending
	stateFiring   = StateFiring
	stateResolved = StateResolved
	stateOK       = StateOK
)

var eventStates = []string{statePending, stateFiring, stateResolved, stateOK}

// EventStates are the states an event can record.
func EventStates() []string { return append([]string(nil), eventStates...) }

// Delivery is the progress of one event's notification on one channel.
type Delivery struct {
	Channel  string    `json:"channel"`
	Status   string    `json:"status"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
}

func (d Delivery) final() bool {
	return d.Status == notify.DeliverySent || d.Status == notify.DeliveryFailed
}

// Event is one state change (or re-notification) of one instance of a
// rule. Its JSON is what the API and the live feed show.
type Event struct {
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
	Deliveries   []Delivery `json:"deliveries"`
	AckedAt      *time.Time `json:"ackedAt"`
	AckedBy      string     `json:"ackedBy"`
	// Tenant is the rule's tenant: only its keys and streams see the
	// event. Not shown: a reader only ever sees its own tenant's.
	Tenant  string `json:"-"`
	version time.Time
}

func (e *Event) clone() *Event {
	c := *e
	c.Deliveries = slices.Clone(e.Deliveries)
	return &c
}

// DedupKey is the same for one announcement of one state change on every
// collector: rule, instance, state and when the episode started (plus the
// re-notification number after the first), so a receiver seeing it twice
// — a retry, a fail-over — can drop the copy.
func DedupKey(ruleID, instance, state string, startedAt time.Time, seq int) string {
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
	"dedup_key", "deliveries", "acked_at", "acked_by", "version", "tenant"}

// eventSelect reads eventColumns (as scanEvent expects) from src.
const eventSelect = "SELECT id, rule_id, rule_name, kind, instance, labels, state, severity, value, threshold, message, " +
	"started_at, at, notify_seq, dedup_key, deliveries, acked_at, acked_by, version, tenant"

// writeEvent stores e as a new version of its row.
func (en *Engine) writeEvent(ctx context.Context, e *Event) error {
	deliveries, err := json.Marshal(e.Deliveries)
	if err != nil {
		return fmt.Errorf("encode deliveries of event %s: %w", e.ID, err)
	}
	batch, err := en.store.PrepareBatch(ctx, "alert_events", eventColumns)
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
		e.Message, e.StartedAt, e.At, uint32(e.Notification), e.DedupKey, string(deliveries), acked, e.AckedBy, v, e.tenant()); err != nil {
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
func (en *Engine) readEvents(ctx context.Context, q string, params store.Params) ([]*Event, error) {
	rows, err := en.store.Query(ctx, q, params)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		e := &Event{}
		var seq uint32
		var deliveries string
		var acked *time.Time
		if err := rows.Scan(&e.ID, &e.RuleID, &e.RuleName, &e.Kind, &e.Instance, &e.Labels, &e.State, &e.Severity,
			&e.Value, &e.Threshold, &e.Message, &e.StartedAt, &e.At, &seq, &e.DedupKey, &deliveries, &acked,
			&e.AckedBy, &e.version, &e.Tenant); err != nil {
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
			e.Deliveries = []Delivery{}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// tenant is the event's tenant, the default one for events stored before
// tenants existed.
func (e *Event) tenant() string {
	if e.Tenant == "" {
		return schema.DefaultTenant
	}
	return e.Tenant
}

// readEvent is the latest version of event id of tenant ("" for any
// tenant), or nil.
func (en *Engine) readEvent(ctx context.Context, tenant, id string) (*Event, error) {
	evs, err := en.readEvents(ctx, eventSelect+" FROM "+en.store.Database()+".alert_events FINAL WHERE id = {id:String}"+
		" AND ({tenant:String} = '' OR tenant = {tenant:String})", store.Params{"id": id, "tenant": tenant})
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	return evs[0], nil
}

// publish puts e on the live feed: the in-app channel's push.
func (en *Engine) publish(e *Event) {
	data, err := json.Marshal(e)
	if err != nil {
		en.logger.Warn("cannot encode alert event for the live feed", zap.String("event_id", e.ID), zap.Error(err))
		return
	}
	l := e.Labels
	en.feed.Publish(livefeed.Event{Kind: livefeed.KindAlert, Data: data, Labels: livefeed.Labels{Tenant: e.tenant(),
		Provider: l["provider"], Model: l["model"], Operation: l["operation"], Service: l["service"], Environment: l["environment"]}})
}

// --- reading and acknowledging ---

// EventQuery selects events: a time range on at, scope labels, and
// optional rule, kind, states, severity and acknowledgement; a page of
// them, newest first.
//
// Tenant is whose events are read: the caller's, "" for every tenant.
type EventQuery struct {
	Tenant   string
	From, To time.Time
	Scope    Scope
	RuleID   string
	Kind     string
	States   []string
	Severity string
	// Acked, when set, keeps only events acknowledged (true) or not.
	Acked  *bool
	Limit  int
	Offset int64
}

// Check names the query's invalid fields (kind, state, severity), in
// that order; nil when there are none.
func (q EventQuery) Check() []FieldError {
	var details []FieldError
	if q.Kind != "" && kindOf(q.Kind) == nil {
		details = append(details, FieldError{Field: "kind", Message: "must be one of " + strings.Join(KindNames(), ", ")})
	}
	for _, s := range q.States {
		if !slices.Contains(eventStates, s) {
			details = append(details, FieldError{Field: "state", Message: "comma-separated list of " + strings.Join(eventStates, ", ")})
			break
		}
	}
	if q.Severity != "" && !slices.Contains(severities, q.Severity) {
		details = append(details, FieldError{Field: "severity", Message: "must be one of " + strings.Join(severities, ", ")})
	}
	return details
}

// where is the query as the inner condition (applied before FINAL picks
// the latest version: only on what never changes between versions) and
// the outer one (acknowledgement, which does).
func (q EventQuery) where() (inner, outer string, params store.Params) {
	conds := []string{"at >= {from:DateTime64(3, 'UTC')}", "at < {to:DateTime64(3, 'UTC')}"}
	params = store.Params{"from": q.From.UTC().Format(milliLayout), "to": q.To.UTC().Format(milliLayout)}
	if q.Tenant != "" {
		conds = append(conds, "tenant = {tenant:String}")
		params["tenant"] = q.Tenant
	}
	// The event table has the scope columns up to environment; the
	// attribution dimensions are in the labels.
	for _, name := range scopeFields[:5] {
		if v := *q.Scope.field(name); v != "" {
			conds = append(conds, name+" = {"+name+":String}")
			params[name] = v
		}
	}
	inner = strings.Join(conds, " AND ")
	if q.RuleID != "" {
		inner += " AND rule_id = {rule:String}"
		params["rule"] = q.RuleID
	}
	if q.Kind != "" {
		inner += " AND kind = {kind:String}"
		params["kind"] = q.Kind
	}
	if len(q.States) > 0 {
		inner += " AND state IN {states:Array(String)}"
		params["states"] = schema.StringArrayParam(q.States)
	}
	if q.Severity != "" {
		inner += " AND severity = {severity:String}"
		params["severity"] = q.Severity
	}
	switch {
	case q.Acked == nil:
	case *q.Acked:
		outer = " WHERE acked_at IS NOT NULL"
	default:
		outer = " WHERE acked_at IS NULL"
	}
	return inner, outer, params
}

// ListEvents is the page of events q selects, newest first, and how many
// it selects in all. A query Check refuses is a *ValidationError.
func (en *Engine) ListEvents(ctx context.Context, q EventQuery) ([]*Event, int64, error) {
	if details := q.Check(); details != nil {
		return nil, 0, &ValidationError{Message: "invalid filters", Fields: details}
	}
	cond, outer, params := q.where()
	inner := "(" + eventSelect + " FROM " + en.store.Database() + ".alert_events FINAL WHERE " + cond + ")"
	total, err := schema.Count(ctx, en.store, "SELECT count() FROM "+inner+outer, params)
	if err != nil {
		return nil, 0, fmt.Errorf("count alert events: %w", err)
	}
	out := []*Event{}
	if q.Offset < total {
		params["limit"] = strconv.Itoa(q.Limit)
		params["offset"] = strconv.FormatInt(q.Offset, 10)
		out, err = en.readEvents(ctx, eventSelect+" FROM "+inner+outer+
			" ORDER BY at DESC, id DESC LIMIT {limit:UInt32} OFFSET {offset:UInt64}", params)
		if err != nil {
			return nil, 0, fmt.Errorf("list alert events: %w", err)
		}
	}
	return out, total, nil
}

// Event is the latest version of event id of tenant; ErrNotFound when
// there is none, or it is another tenant's.
func (en *Engine) Event(ctx context.Context, tenant, id string) (*Event, error) {
	e, err := en.readEvent(ctx, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("read alert event: %w", err)
	}
	if e == nil {
		return nil, notFound("no alert event " + id)
	}
	return e, nil
}

// Acknowledge acknowledges a firing event on behalf of by: someone is on
// it. A firing alert acknowledged in any of its announcements is not
// re-notified. Events that are not firing, or already acknowledged, are
// an ErrConflict.
//
// Another tenant's event is ErrNotFound.
func (en *Engine) Acknowledge(ctx context.Context, tenant, id, by string) (*Event, error) {
	en.eventWrites.Lock()
	defer en.eventWrites.Unlock()
	e, err := en.readEvent(ctx, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("read alert event: %w", err)
	}
	if e == nil {
		return nil, notFound("no alert event " + id)
	}
	if e.State != stateFiring {
		return nil, conflict("only firing events can be acknowledged; event " + id + " is " + e.State)
	}
	if e.AckedAt != nil {
		return nil, conflict("event " + id + " was already acknowledged by " + e.AckedBy + " at " + e.AckedAt.Format(time.RFC3339))
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	e.AckedAt, e.AckedBy = &now, by
	// The caller may hang up; the acknowledgement must still be stored.
	if err := en.writeEvent(context.WithoutCancel(ctx), e); err != nil {
		return nil, fmt.Errorf("acknowledge alert event: %w", err)
	}
	en.logger.Info("alert event acknowledged", zap.String("event_id", id), zap.String("rule_id", e.RuleID), zap.String("by", by))
	return e, nil
}
