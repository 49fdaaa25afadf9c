package nexusapiextension

import (
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/budgetevents"
	"github.com/nexus-otel/nexus/internal/spend"
)

// Budgets live in internal/spend; these are their routes.
func (a *api) budgetRoutes() {
	a.route("GET /api/v1/budgets", roleViewer, a.listBudgets)
	a.route("POST /api/v1/budgets", roleEditor, a.createBudget)
	a.route("GET /api/v1/budgets/{id}", roleViewer, a.getBudget)
	a.route("PUT /api/v1/budgets/{id}", roleEditor, a.replaceBudget)
	a.route("PATCH /api/v1/budgets/{id}", roleEditor, a.patchBudget)
	a.route("DELETE /api/v1/budgets/{id}", roleEditor, a.deleteBudget)
	a.route("GET /api/v1/budgets/{id}/status", roleViewer, a.getBudgetStatus)
	a.route("GET /api/v1/budgets/{id}/events", roleViewer, a.listBudgetEvents)
}

func (a *api) listBudgets(w http.ResponseWriter, r *http.Request) *APIError {
	pg, apiErr := parsePage(r)
	if apiErr != nil {
		return apiErr
	}
	live, err := a.spend.Budgets(r.Context(), tenantOf(r.Context()))
	if err != nil {
		return a.storeError(r, "list budgets", err)
	}
	if live == nil {
		live = []spend.Budget{}
	}
	writeData(w, http.StatusOK, paginate(live, pg), pg.of(int64(len(live))))
	return nil
}

func (a *api) getBudget(w http.ResponseWriter, r *http.Request) *APIError {
	b, err := a.spend.Budget(r.Context(), tenantOf(r.Context()), r.PathValue("id"))
	if err != nil {
		return a.domainError(r, "read budget", err)
	}
	writeData(w, http.StatusOK, b, nil)
	return nil
}

func (a *api) createBudget(w http.ResponseWriter, r *http.Request) *APIError {
	var in spend.BudgetInput
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	b, err := a.spend.CreateBudget(r.Context(), tenantOf(r.Context()), in)
	if err != nil {
		return a.domainError(r, "write budget", err)
	}
	writeWarned(w, http.StatusCreated, b, a.budgetWarnings(r, b))
	return nil
}

// budgetWarnings are the warnings of an accepted budget; a store that
// cannot tell gives none (the budget is stored either way).
func (a *api) budgetWarnings(r *http.Request, b spend.Budget) []string {
	warnings, err := a.spend.BudgetWarnings(r.Context(), b)
	if err != nil {
		a.logger.Warn("cannot check a budget's scope", zap.String("request_id", requestID(r)), zap.Error(err))
	}
	return warnings
}

func (a *api) replaceBudget(w http.ResponseWriter, r *http.Request) *APIError {
	return a.updateBudget(w, r, true)
}

func (a *api) patchBudget(w http.ResponseWriter, r *http.Request) *APIError {
	return a.updateBudget(w, r, false)
}

// updateBudget is PUT (full: the body replaces every field) and PATCH
// (the fields present replace the stored ones).
func (a *api) updateBudget(w http.ResponseWriter, r *http.Request, full bool) *APIError {
	var in spend.BudgetInput
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	b, err := a.spend.UpdateBudget(r.Context(), tenantOf(r.Context()), r.PathValue("id"), in, full)
	if err != nil {
		return a.domainError(r, "write budget", err)
	}
	writeWarned(w, http.StatusOK, b, a.budgetWarnings(r, b))
	return nil
}

func (a *api) deleteBudget(w http.ResponseWriter, r *http.Request) *APIError {
	b, err := a.spend.DeleteBudget(r.Context(), tenantOf(r.Context()), r.PathValue("id"))
	if err != nil {
		return a.domainError(r, "delete budget", err)
	}
	writeData(w, http.StatusOK, b, nil)
	return nil
}

func (a *api) getBudgetStatus(w http.ResponseWriter, r *http.Request) *APIError {
	st, err := a.spend.BudgetStatus(r.Context(), tenantOf(r.Context()), r.PathValue("id"), time.Now())
	if err != nil {
		return a.costError(r, "budget status", "period", err)
	}
	writeData(w, http.StatusOK, st, nil)
	return nil
}

// listBudgetEvents is what the proxy did about budget id (each call it
// refused or let pass under a warning), newest first; the last 24 hours
// unless from/to say otherwise.
func (a *api) listBudgetEvents(w http.ResponseWriter, r *http.Request) *APIError {
	f, fErr := a.parseFilters(r, 24*time.Hour)
	pg, pErr := parsePage(r)
	var sErr *APIError
	for _, name := range []string{"provider", "model", "operation", "service", "environment"} {
		if r.URL.Query().Get(name) != "" {
			sErr = joinErrors(sErr, badRequest("", FieldError{Field: name, Message: "not available: a budget's events are listed whole"}))
		}
	}
	sErr = joinErrors(sErr, refuseDims(f, "a budget's events are listed whole", "team", "feature", "customer", "user", "tag"))
	if err := joinErrors(fErr, pErr, sErr); err != nil {
		return err
	}
	tenant := tenantOf(r.Context())
	// Another tenant's budget, or none: the same 404.
	if _, err := a.spend.Budget(r.Context(), tenant, r.PathValue("id")); err != nil {
		return a.domainError(r, "read budget", err)
	}
	page, err := budgetevents.List(r.Context(), a.store, tenant, r.PathValue("id"), f.From, f.To, int(pg.offset()), pg.Limit)
	if err != nil {
		return a.storeError(r, "list budget events", err)
	}
	events := page.Events
	if events == nil {
		events = []budgetevents.Event{}
	}
	writeData(w, http.StatusOK, events, pg.of(page.Total))
	return nil
}
