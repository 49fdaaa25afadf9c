package alerting

import (
	"context"
	"strings"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"
)

// link is where a notification points for event id; "" without
// link_base_url.
func (en *Engine) link(id string) string {
	base := en.cfg.LinkBaseURL
	switch {
	case base == "":
		return ""
	case strings.Contains(base, "{event_id}"):
		return strings.ReplaceAll(base, "{event_id}", id)
	}
	return strings.TrimRight(base, "/") + "/api/v1/alerts/events/" + id
}

// defaultMessage is the measurement with what happened to it.
func defaultMessage(r *Rule, state, summary, note string) string {
	if note != "" && (state == stateResolved || state == stateOK) && summary == "" {
		summary = note
	}
	var def string
	switch state {
	case statePending:
		def = "pending for " + FormatDuration(r.For) + ": " + summary
	case stateFiring:
		def = summary
		if note != "" {
			def = note + ": " + summary
		}
	case stateResolved, stateOK:
		prefix := "resolved"
		if state == stateOK {
			prefix = "cleared before firing"
		}
		switch {
		case note != "":
			def = prefix + " (" + note + ")"
		default:
			def = prefix + ": " + summary
		}
	}
	return def
}

// message is the rule's template run on the event, or def when the rule
// has none, the event is the overflow of a capped rule (its own words say
// what a per-instance template cannot), or the run fails or overruns.
func (en *Engine) message(ctx context.Context, r *Rule, ev *Event, def, link string) string {
	if r.tmpl == nil || ev.Instance == overflowInstance {
		return def
	}
	data := templateData{Rule: templateRule{ID: r.ID, Name: r.Name, Kind: r.Kind, Severity: r.Severity}, State: ev.State,
		Value: formatValue(r, ev.Value), Threshold: formatValue(r, ev.Threshold), Labels: ev.Labels, Instance: ev.Instance,
		Summary: def, StartedAt: ev.StartedAt, At: ev.At, Link: link}
	if r.Window > 0 {
		data.Window = FormatDuration(r.Window)
	}
	out, err := en.render.run(ctx, r.tmpl, data)
	if err != nil {
		en.logger.Warn("alert message template failed; the default message is used", zap.String("rule_id", r.ID), zap.Error(err))
		return def
	}
	return out
}

// formatValue renders a value in its kind's unit: dollars, percent,
// milliseconds or a count.
func formatValue(r *Rule, v decimal.Decimal) string {
	if k := kindOf(r.Kind); k != nil {
		return k.unit(r).format(v)
	}
	return unitCount.format(v)
}
