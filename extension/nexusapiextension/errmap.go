package nexusapiextension

import (
	"errors"
	"net/http"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
)

// domainError answers a domain package's error: refused input 400 naming
// its fields, a missing thing 404, a clash with what is stored 409; any
// other error is the store failing while doing what (storeError).
func (a *api) domainError(r *http.Request, what string, err error) *APIError {
	if e, ok := domainerr.AsInvalid(err); ok {
		details := make([]FieldError, len(e.Fields))
		for i, f := range e.Fields {
			details[i] = FieldError{Field: f.Field, Message: f.Message}
		}
		return badRequest(e.Summary, details...)
	}
	if e, ok := domainerr.AsNotFound(err); ok {
		return notFound(e.Message)
	}
	if e, ok := domainerr.AsConflict(err); ok {
		return conflict(e.Message)
	}
	return a.storeError(r, what, err)
}

// costError answers a failed cost read. A range the store can no longer
// answer exactly is the client's to change, so it is a 400 naming the
// input that reached back (field unless the error names another) rather
// than an answer that silently counts a whole bucket or none of it.
func (a *api) costError(r *http.Request, what, field string, err error) *APIError {
	var nk *schema.NotKeptError
	if errors.As(err, &nk) {
		if nk.Input != "" {
			field = nk.Input
		}
		return badRequest("range needs detail the store no longer keeps", FieldError{Field: field,
			Message: "data this old is kept only in hourly or daily rollups: align from and to to whole UTC hours or days"})
	}
	return a.domainError(r, what, err)
}
