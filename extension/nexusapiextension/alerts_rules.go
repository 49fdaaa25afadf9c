package nexusapiextension

import (
	"context"
	"net/http"
	"time"

	"github.com/nexus-otel/nexus/internal/alerting"
)

// ruleView is a rule as the API shows it.
type ruleView struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Kind      string         `json:"kind"`
	Origin    string         `json:"origin"`
	Scope     alerting.Scope `json:"scope"`
	GroupBy   []string       `json:"groupBy"`
	Threshold *string        `json:"threshold"`
	Window    *string        `json:"window"`
	For       string         `json:"for"`
	Severity  string         `json:"severity"`
	Channels  []string       `json:"channels"`
	Message   string         `json:"message"`
	Enabled   bool           `json:"enabled"`
	BudgetID  string         `json:"budgetId,omitempty"`
	MinCalls  int            `json:"minCalls,omitempty"`
	Source    string         `json:"source,omitempty"`
	Mode      string         `json:"mode,omitempty"`
	CreatedAt *time.Time     `json:"createdAt,omitempty"`
	UpdatedAt *time.Time     `json:"updatedAt,omitempty"`
}

// viewRule is r as the API shows it: a threshold or window the kind does
// not use is null, and config rules have no timestamps.
func viewRule(r *alerting.Rule) ruleView {
	v := ruleView{ID: r.ID, Name: r.Name, Kind: r.Kind, Origin: r.Origin, Scope: r.Scope,
		GroupBy: r.GroupBy, For: alerting.FormatDuration(r.For), Severity: r.Severity, Channels: r.Channels,
		Message: r.Message, Enabled: r.Enabled, BudgetID: r.BudgetID, MinCalls: r.MinCalls,
		Source: r.Source, Mode: r.Mode}
	if v.GroupBy == nil {
		v.GroupBy = []string{}
	}
	if v.Channels == nil {
		v.Channels = []string{}
	}
	if !r.Threshold.IsZero() {
		s := r.Threshold.String()
		v.Threshold = &s
	}
	if r.Window > 0 {
		s := alerting.FormatDuration(r.Window)
		v.Window = &s
	}
	if r.Origin == alerting.OriginAPI {
		created, updated := r.CreatedAt, r.UpdatedAt
		v.CreatedAt, v.UpdatedAt = &created, &updated
	}
	return v
}

func (a *api) listRules(w http.ResponseWriter, r *http.Request) *APIError {
	pg, apiErr := parsePage(r)
	if apiErr != nil {
		return apiErr
	}
	all, err := a.alerts.Rules(r.Context(), tenantOf(r.Context()))
	if err != nil {
		return a.alertError(r, "list alert rules", err)
	}
	views := make([]ruleView, len(all))
	for i, rule := range all {
		views[i] = viewRule(rule)
	}
	writeData(w, http.StatusOK, paginate(views, pg), pg.of(int64(len(all))))
	return nil
}

func (a *api) getRule(w http.ResponseWriter, r *http.Request) *APIError {
	rule, err := a.alerts.Rule(r.Context(), tenantOf(r.Context()), r.PathValue("id"))
	if err != nil {
		return a.alertError(r, "read alert rule", err)
	}
	writeData(w, http.StatusOK, viewRule(rule), nil)
	return nil
}

func (a *api) createRule(w http.ResponseWriter, r *http.Request) *APIError {
	var in alerting.RuleInput
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	rule, err := a.alerts.CreateRule(r.Context(), tenantOf(r.Context()), in)
	if err != nil {
		return a.alertError(r, "create alert rule", err)
	}
	writeData(w, http.StatusCreated, viewRule(rule), nil)
	return nil
}

func (a *api) replaceRule(w http.ResponseWriter, r *http.Request) *APIError {
	return a.updateRule(w, r, a.alerts.ReplaceRule)
}

func (a *api) patchRule(w http.ResponseWriter, r *http.Request) *APIError {
	return a.updateRule(w, r, a.alerts.PatchRule)
}

// updateRule answers PUT and PATCH. The rule is looked up before the body
// is read, so that a missing or read-only rule is said whatever the body.
func (a *api) updateRule(w http.ResponseWriter, r *http.Request,
	update func(ctx context.Context, tenant, id string, in alerting.RuleInput) (*alerting.Rule, error)) *APIError {
	id := r.PathValue("id")
	if err := a.alerts.CheckWritable(r.Context(), tenantOf(r.Context()), id); err != nil {
		return a.alertError(r, "read alert rule", err)
	}
	var in alerting.RuleInput
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	rule, err := update(r.Context(), tenantOf(r.Context()), id, in)
	if err != nil {
		return a.alertError(r, "update alert rule", err)
	}
	writeData(w, http.StatusOK, viewRule(rule), nil)
	return nil
}

func (a *api) deleteRule(w http.ResponseWriter, r *http.Request) *APIError {
	rule, err := a.alerts.DeleteRule(r.Context(), tenantOf(r.Context()), r.PathValue("id"))
	if err != nil {
		return a.alertError(r, "delete alert rule", err)
	}
	writeData(w, http.StatusOK, viewRule(rule), nil)
	return nil
}
