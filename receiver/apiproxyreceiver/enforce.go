package apiproxyreceiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/budgetevents"
	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/spendguard"
)

// hold is a guarded call's reservation on its budgets, with what was
// reserved (settled instead when nothing better is known).
type hold struct {
	r     *spendguard.Reservation
	worst decimal.Decimal
	model string
}

// enforce decides c against its tenant's warn and block budgets before it
// is forwarded: false when it refused the call (and answered it). The body
// is read first, whole (admission already bounds how many are), because
// the worst case is priced from it; it is then forwarded from memory.
func (p *proxy) enforce(w http.ResponseWriter, r *http.Request, c *call) bool {
	tenant := tenantOf(c.client)
	if !p.enforcer.guarded(tenant) {
		return true
	}
	var body []byte
	if c.req != nil {
		buf := bytes.NewBuffer(nil)
		if r.ContentLength > 0 && r.ContentLength <= p.maxBody {
			// Read in one piece rather than grown through copies.
			buf.Grow(int(r.ContentLength) + 1)
		}
		_, err := buf.ReadFrom(c.req)
		body = buf.Bytes()
		if err != nil {
			if errors.Is(err, errBodyTooLarge) {
				c.rejected = true
				p.refuse(w, c.rt, tooLarge(p.maxBody))
				return false
			}
			// The caller's upload broke: nothing to forward.
			c.gone = true
			return false
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	req, _ := parseRequest(body)
	// The emitter reads the model and tier from here, not again.
	c.reqDoc = &req
	worst, model := p.enforcer.worstCase(c.rt.name, &req, body), req.model
	gc := guardCall(tenant, c.rt.name, model, c.service, &c.who)
	d, res := p.enforcer.guard.Reserve(gc, worst)
	p.enforcer.record(gc, worst, d)
	if d.Refused != nil {
		c.rejected = true
		p.countRefusal(c.rt, "budget_exceeded")
		p.logger.Info("call refused by a budget", zap.String("provider", c.rt.name), zap.String("tenant", tenant),
			zap.String("budget", d.Refused.BudgetID), zap.String("remaining_usd", d.Refused.Remaining.String()),
			zap.String("worst_case_usd", worst.String()))
		budgetExceeded(w, d.Refused)
		return false
	}
	warnHeaders(w.Header(), d.Warnings)
	c.hold = &hold{r: res, worst: worst, model: model}
	return true
}

// record stores what was decided about a call: the refusal, or each
// warning budget it passed under.
func (e *enforcer) record(c spendguard.Call, worst decimal.Decimal, d spendguard.Decision) {
	ev := budgetevents.Event{Tenant: c.Tenant, At: time.Now(), Provider: c.Provider, Model: c.Model, Service: c.Service,
		Customer: c.Customer, User: c.User, Team: c.Team, Feature: c.Feature, WorstCaseUSD: worst}
	if d.Refused != nil {
		ev.BudgetID, ev.BudgetName, ev.Action, ev.RemainingUSD = d.Refused.BudgetID, d.Refused.Name, budgetevents.Block, d.Refused.Remaining
		e.publish(e.events.Add(ev))
		return
	}
	for _, w := range d.Warnings {
		ev.BudgetID, ev.BudgetName, ev.Action, ev.RemainingUSD = w.BudgetID, w.Name, budgetevents.Warn, w.Remaining
		e.publish(e.events.Add(ev))
	}
}

// publish shows ev on the live stream, to its tenant's readers.
func (e *enforcer) publish(ev budgetevents.Event) {
	if e.feed == nil {
		return
	}
	data, _ := json.Marshal(ev) // strings, a time and decimals always encode
	e.feed.Publish(livefeed.Event{Kind: livefeed.KindBudget, Data: data, Labels: livefeed.Labels{Tenant: ev.Tenant,
		Provider: ev.Provider, Model: ev.Model, Service: ev.Service, Customer: ev.Customer, User: ev.User, Team: ev.Team, Feature: ev.Feature}})
}

// settle ends a guarded call's reservation once its answer is read (on the
// emitter): with what it cost when that is known; released when it never
// reached the provider or the provider refused it (a known $0); and at
// its worst case when it was answered but its cost cannot be told, until
// the store's figure replaces it.
func (e *enforcer) settle(c *call, res *result) {
	h := c.hold
	if h == nil {
		return
	}
	c.hold = nil
	switch cost, ok := e.actualCost(c.rt.name, h.model, res); {
	case ok:
		h.r.Settle(cost, time.Now())
	case c.status == 0 || c.status >= 400:
		h.r.Release()
	default:
		h.r.Settle(h.worst, time.Now())
	}
}

// releaseHold ends the reservation of a call that will not reach the
// emitter.
func (c *call) releaseHold() {
	if c.hold != nil {
		c.hold.r.Release()
		c.hold = nil
	}
}
