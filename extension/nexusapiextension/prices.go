package nexusapiextension

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/pricebook"
	"github.com/nexus-otel/nexus/internal/pricing"
)

// Prices live in internal/pricebook; these are their routes. The catalogs
// are the cost processor's when it names this extension (prices.api), so
// that what is listed and re-priced with is what calls are priced with;
// without one, the built-in catalog with the store's run-time lists.
func (a *api) priceRoutes() {
	a.route("GET /api/v1/prices", roleViewer, a.listPrices)
	a.route("POST /api/v1/prices", roleEditor, a.addPrice)
	a.route("POST /api/v1/prices/reprice", roleEditor, a.reprice)
}

// PriceExchange is where the cost processor hands over its catalogs.
func (a *api) PriceExchange() *pricebook.Exchange { return &a.priceExchange }

// priceWatcher is the catalogs to use now, read again if the table
// changed (a list just added is listed at once).
func (a *api) priceWatcher(ctx context.Context) (*pricebook.Watcher, error) {
	w := a.priceExchange.Watcher()
	if w == nil {
		a.ownPricesOnce.Do(func() {
			base, err := pricing.Default()
			if err != nil {
				a.logger.Error("built-in pricing catalog", zap.Error(err))
				return
			}
			a.ownPrices = pricebook.NewWatcher(base, a.store, a.logger)
		})
		if w = a.ownPrices; w == nil {
			return nil, errors.New("no pricing catalog")
		}
	}
	return w, w.Refresh(ctx)
}

// pricesView is the answer of GET /prices: the tenant's catalog version
// and its lists.
type pricesView struct {
	Version string           `json:"version"`
	Lists   []pricebook.List `json:"lists"`
}

// listPrices lists the tenant's catalog: the lists in effect at `at` (now
// by default), one per key, or with history=true every list, each with
// its source; provider, model and operation narrow it.
func (a *api) listPrices(w http.ResponseWriter, r *http.Request) *APIError {
	q := r.URL.Query()
	pg, pErr := parsePage(r)
	at, history := time.Now().UTC(), false
	var details []FieldError
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			details = append(details, FieldError{Field: "at", Message: "must be an RFC 3339 time, e.g. 2026-11-26T00:00:00Z"})
		}
		at = t.UTC()
	}
	if v := q.Get("history"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			details = append(details, FieldError{Field: "history", Message: "must be true or false"})
		}
		history = b
	}
	if details != nil {
		pErr = joinErrors(pErr, badRequest("invalid filters", details...))
	}
	if pErr != nil {
		return pErr
	}
	watcher, err := a.priceWatcher(r.Context())
	if err != nil {
		return a.storeError(r, "read price lists", err)
	}
	tenant := tenantOf(r.Context())
	day := at.Format(time.DateOnly)
	var out []pricebook.List
	seen := map[[4]string]bool{}
	for _, l := range watcher.Lists(tenant) { // newest effective first per key
		if !matches(q.Get("provider"), l.Provider) || !matches(q.Get("model"), l.Model) || !matches(q.Get("operation"), l.Operation) {
			continue
		}
		if !history {
			k := [4]string{l.Provider, l.Model, l.Operation, l.Country}
			if l.Effective > day || seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, l)
	}
	if out == nil {
		out = []pricebook.List{}
	}
	writeData(w, http.StatusOK, pricesView{Version: watcher.Catalog(tenant).Version(), Lists: paginate(out, pg)}, pg.of(int64(len(out))))
	return nil
}

func matches(want, got string) bool { return want == "" || want == got }

// countryOf is a list's country as its audit resource id shows it.
func countryOf(c string) string {
	if c == "" {
		return ""
	}
	return ":" + c
}

// priceInput is a list added through the API.
type priceInput struct {
	pricing.Entry
	Force bool `json:"force"`
}

// addedPrice is the answer of POST /prices: the list and the tenant's
// catalog version with it.
type addedPrice struct {
	List    pricebook.List `json:"list"`
	Version string         `json:"version"`
}

func (a *api) addPrice(w http.ResponseWriter, r *http.Request) *APIError {
	var in priceInput
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	watcher, err := a.priceWatcher(r.Context())
	if err != nil {
		return a.storeError(r, "read price lists", err)
	}
	tenant := tenantOf(r.Context())
	l, err := pricebook.Add(r.Context(), a.store, watcher.Catalog(tenant), tenant, principalOf(r.Context()).ActorID, pricebook.AddRequest{Entry: in.Entry, Force: in.Force}, time.Now())
	if err != nil {
		return a.domainError(r, "add price list", err)
	}
	noteAudit(r, "prices", l.Provider+"/"+l.Model+l.Operation+countryOf(l.Country)+"@"+l.Effective, nil, nil)
	if err := watcher.Refresh(r.Context()); err != nil {
		a.logger.Warn("price lists not read again after a list was added", zap.String("request_id", requestID(r)), zap.Error(err))
	}
	writeData(w, http.StatusCreated, addedPrice{List: l, Version: watcher.Catalog(tenant).Version()}, nil)
	return nil
}

// repriceInput is which calls to re-price.
type repriceInput struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Service  string `json:"service"`
	Customer string `json:"customer"`
	User     string `json:"user"`
	Team     string `json:"team"`
	Feature  string `json:"feature"`
}

// reprice re-prices the tenant's stored calls in a range with the catalog
// as it is now; the audit entry (the route's) holds the answer: the calls
// re-priced and the money moved.
func (a *api) reprice(w http.ResponseWriter, r *http.Request) *APIError {
	var in repriceInput
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	req := pricebook.RepriceRequest{Provider: in.Provider, Model: in.Model, Service: in.Service, Customer: in.Customer,
		User: in.User, Team: in.Team, Feature: in.Feature}
	var details []FieldError
	for _, f := range []struct {
		name, text string
		into       *time.Time
	}{{"from", in.From, &req.From}, {"to", in.To, &req.To}} {
		t, err := time.Parse(time.RFC3339Nano, f.text)
		switch {
		case f.text == "":
			details = append(details, FieldError{Field: f.name, Message: "required (RFC 3339)"})
		case err != nil:
			details = append(details, FieldError{Field: f.name, Message: "must be an RFC 3339 time, e.g. 2026-11-01T00:00:00Z"})
		}
		*f.into = t.UTC()
	}
	if details != nil {
		return badRequest("invalid re-price", details...)
	}
	watcher, err := a.priceWatcher(r.Context())
	if err != nil {
		return a.storeError(r, "read price lists", err)
	}
	tenant := tenantOf(r.Context())
	auditAs(r, "prices.reprice")
	res, err := pricebook.Reprice(r.Context(), a.store, watcher.Catalog(tenant), tenant, req)
	if err != nil {
		return a.domainError(r, "re-price calls", err)
	}
	noteAudit(r, "prices", "", nil, res)
	// The closed days it moved are read again by the next cost read.
	a.spend.Forget(tenant)
	a.logger.Info("calls re-priced", zap.String("request_id", requestID(r)), zap.String("tenant", tenant), zap.Int("repriced", res.Repriced),
		zap.String("moved_usd", res.Moved.String()), zap.String("pricing_version", res.Version))
	writeData(w, http.StatusOK, res, nil)
	return nil
}
