package nexusapiextension

import (
	"encoding/json"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/privacy"
)

func (a *api) privacyRoutes() {
	// Both are admin's: an export is the person's data, a deletion
	// cannot be undone.
	a.route("GET /api/v1/personal-data", roleAdmin, a.exportPersonalData)
	a.route("DELETE /api/v1/personal-data", roleAdmin, a.deletePersonalData)
}

// personalDataSubject is the one identifier a request names: customer= or
// user=, exactly one, not empty.
func personalDataSubject(r *http.Request) (dim, value string, apiErr *APIError) {
	q := r.URL.Query()
	var named []string
	for _, d := range privacy.Dims {
		if q.Has(d) {
			named = append(named, d)
		}
	}
	if len(named) != 1 {
		return "", "", badRequest("name one subject", FieldError{Field: "customer", Message: "exactly one of customer=<id> or user=<id>"})
	}
	dim, value = named[0], q.Get(named[0])
	if value == "" {
		return "", "", badRequest("name one subject", FieldError{Field: dim, Message: "must not be empty"})
	}
	if msg := badValue(value); msg != "" {
		return "", "", badRequest("invalid subject", FieldError{Field: dim, Message: msg})
	}
	return dim, value, nil
}

// exportPersonalData streams every row of the caller's tenant holding the
// subject, as {"data": {"<dim>": value, "tables": {"<table>": [rows…]}}}.
// Rows are written as they are read, so a large customer never sits in
// memory; a failure after the first row ends the body early (invalid
// JSON), which a client cannot mistake for a complete export.
func (a *api) exportPersonalData(w http.ResponseWriter, r *http.Request) *APIError {
	dim, value, apiErr := personalDataSubject(r)
	if apiErr != nil {
		return apiErr
	}
	tenant := tenantOf(r.Context())
	// Checked before anything is written: an error here is still an
	// ordinary answer.
	if _, err := a.privacy.Count(r.Context(), tenant, dim, value); err != nil {
		return a.domainError(r, "personal data export", err)
	}
	head, _ := json.Marshal(value)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"success":true,"data":{"` + dim + `":` + string(head) + `,"tables":{`))
	for i, t := range privacy.Tables(dim) {
		if i > 0 {
			_, _ = w.Write([]byte(","))
		}
		name, _ := json.Marshal(t)
		_, _ = w.Write(append(name, ':', '['))
		first := true
		err := a.privacy.ExportTable(r.Context(), tenant, dim, value, t, func(row json.RawMessage) error {
			if !first {
				if _, err := w.Write([]byte(",")); err != nil {
					return err
				}
			}
			first = false
			_, err := w.Write(row)
			return err
		})
		if err != nil {
			a.logger.Warn("personal data export cut short", zap.String("request_id", requestID(r)), zap.Error(err))
			return nil
		}
		_, _ = w.Write([]byte("]"))
	}
	m, _ := json.Marshal(meta{Timestamp: time.Now().UTC().Format(time.RFC3339Nano), Version: Version})
	_, _ = w.Write([]byte(`}},"meta":` + string(m) + `}`))
	return nil
}

// deletePersonalData erases the subject's rows of the caller's tenant and
// answers, per table, how many rows held it before and after (0).
func (a *api) deletePersonalData(w http.ResponseWriter, r *http.Request) *APIError {
	dim, value, apiErr := personalDataSubject(r)
	if apiErr != nil {
		return apiErr
	}
	del, err := a.privacy.Delete(r.Context(), tenantOf(r.Context()), dim, value)
	if err != nil {
		return a.domainError(r, "personal data deletion", err)
	}
	writeData(w, http.StatusOK, del, nil)
	return nil
}
