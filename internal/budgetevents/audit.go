package budgetevents

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nexus-otel/nexus/internal/audit"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Audit trail entries of events: actions, and who they are by.
const (
	AuditBlock = "budget.block"
	AuditWarn  = "budget.warn"
	// AuditActor is the actor (a system one) and AuditVia the channel of
	// every event's entry: the proxy decided, the API only records it.
	AuditActor = "apiproxy"
	AuditVia   = "proxy"
)

// auditSkew widens the window read of the audit trail beyond lookback:
// an entry is stamped by the auditing process's clock, the event by the
// proxy's, and an entry read as earlier than its own event's window
// would make that event look unaudited and audit it twice.
const auditSkew = time.Hour

// maxAuditID bounds the ids and tenants of events audited: the trail cuts
// longer text, so such an event's request_id would never match its id and
// it would be audited again on every run. The proxy's ids are far shorter.
const maxAuditID = 1024

// AuditNew appends to the audit trail log the budget events of the last
// lookback that it does not hold yet, oldest first, at most limit of
// them, and returns how many it appended. Whether an event is in the
// trail is read from the store (an entry of its tenant with its action
// and the event's id as request id), not remembered, so a restart resumes
// where the last run stopped. The first Append that fails ends the run
// with its error: what was appended before it stays, the rest is taken
// up by the next run. Runs must not overlap (one goroutine of one
// collector): two would both see an event unaudited and append it twice.
func AuditNew(ctx context.Context, s store.Store, log *audit.Log, lookback time.Duration, limit int) (int, error) {
	if lookback <= 0 || limit < 1 {
		return 0, fmt.Errorf("audit budget events: lookback %v and limit %d must be positive", lookback, limit)
	}
	events, err := unaudited(ctx, s, time.Now().Add(-lookback), limit)
	if err != nil {
		return 0, err
	}
	for i, e := range events {
		if _, err := log.Append(ctx, auditEntry(e)); err != nil {
			return i, fmt.Errorf("audit budget event %s of tenant %q: %w", e.ID, e.Tenant, err)
		}
	}
	return len(events), nil
}

// unaudited reads up to limit events since from that have no entry in the
// audit trail, oldest first. Only blocks and warns are read (an action
// the trail has no name for would be read again on every run), and only
// events whose id and tenant the trail stores unchanged.
func unaudited(ctx context.Context, s store.Store, from time.Time, limit int) ([]Event, error) {
	params := store.Params{
		"from":       from.UTC().Format("2006-01-02 15:04:05.000"),
		"audit_from": from.Add(-auditSkew).UTC().Format("2006-01-02 15:04:05.000000"),
		"block":      Block, "warn": Warn, "audit_block": AuditBlock, "audit_warn": AuditWarn,
		"max_id": strconv.Itoa(maxAuditID), "limit": strconv.Itoa(limit),
	}
	// FINAL and LIMIT 1 BY: a batch the proxy wrote twice is one event
	// until (and whether or not) the table merges it.
	q := "SELECT tenant, id, timestamp, budget_id, budget_name, action, provider, model, service, customer, user, team, feature," +
		" worst_case_usd, remaining_usd FROM " + schema.Table(s, schema.TableBudgetEvents) + " FINAL" +
		" WHERE timestamp >= {from:DateTime64(3, 'UTC')} AND action IN ({block:String}, {warn:String})" +
		" AND length(id) BETWEEN 1 AND {max_id:UInt32} AND isValidUTF8(id)" +
		" AND length(tenant) BETWEEN 1 AND {max_id:UInt32} AND isValidUTF8(tenant)" +
		" AND (tenant, id) NOT IN (SELECT tenant, request_id FROM " + schema.Table(s, audit.Table) +
		" WHERE at >= {audit_from:DateTime64(6, 'UTC')} AND action IN ({audit_block:String}, {audit_warn:String}))" +
		" ORDER BY timestamp, tenant, id LIMIT 1 BY tenant, id LIMIT {limit:UInt32}"
	rows, err := s.Query(ctx, q, params)
	if err != nil {
		return nil, fmt.Errorf("read unaudited budget events: %w", err)
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.Tenant, &e.ID, &e.At, &e.BudgetID, &e.BudgetName, &e.Action, &e.Provider, &e.Model, &e.Service,
			&e.Customer, &e.User, &e.Team, &e.Feature, &e.WorstCaseUSD, &e.RemainingUSD); err != nil {
			return nil, fmt.Errorf("read unaudited budget events: %w", err)
		}
		e.At = e.At.UTC()
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read unaudited budget events: %w", err)
	}
	return events, nil
}

// auditEntry is e as an entry of the audit trail.
func auditEntry(e Event) audit.Entry {
	action, outcome := AuditWarn, audit.OutcomeSuccess
	if e.Action == Block {
		action, outcome = AuditBlock, audit.OutcomeDenied
	}
	after, err := json.Marshal(e)
	if err != nil {
		// An Event is strings, a time and decimals: this cannot happen,
		// and the entry says so rather than being lost.
		after, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	return audit.Entry{Tenant: e.Tenant, ActorType: audit.ActorSystem, ActorID: AuditActor, Via: AuditVia,
		Action: action, ResourceType: "budgets", ResourceID: e.BudgetID, RequestID: e.ID, Outcome: outcome,
		After: after, Detail: auditDetail(e)}
}

// auditDetail is the event in a sentence: "refused a call to openai
// gpt-4o-mini: worst case $0.001, $0.0004 left of budget "cap"". Names
// come from the proxy's callers and budgets' owners, so they are shortened
// and their control characters escaped: the sentence is for reading.
func auditDetail(e Event) string {
	verb := "let through"
	if e.Action == Block {
		verb = "refused"
	}
	target := printable(e.Provider, 64)
	if e.Model != "" {
		target += " " + printable(e.Model, 128)
	}
	return fmt.Sprintf("%s a call to %s: worst case $%s, $%s left of budget %s",
		verb, target, e.WorstCaseUSD.String(), e.RemainingUSD.String(), strconv.Quote(printable(e.BudgetName, 128)))
}

// printable is s valid UTF-8 with control characters as spaces, cut to at
// most n bytes (at a character, marked with "…").
func printable(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
