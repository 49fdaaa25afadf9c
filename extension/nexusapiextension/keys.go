package nexusapiextension

import (
	"net/http"

	"github.com/nexus-otel/nexus/internal/apikeys"
)

// apiKey is a key as the API shows it.
type apiKey = apikeys.Key

type createKeyRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// validate names each bad field of a key request (apikeys.Validate).
func (req createKeyRequest) validate() []FieldError {
	var details []FieldError
	for _, f := range apikeys.Validate(req.Name, req.Role) {
		details = append(details, FieldError{Field: f.Field, Message: f.Message})
	}
	return details
}

func (a *api) listKeys(w http.ResponseWriter, r *http.Request) *APIError {
	out := a.keys.List()
	page, apiErr := parsePage(r)
	if apiErr != nil {
		return apiErr
	}
	writeData(w, http.StatusOK, paginate(out, page), page.of(int64(len(out))))
	return nil
}

func (a *api) createKey(w http.ResponseWriter, r *http.Request) *APIError {
	var req createKeyRequest
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if details := req.validate(); details != nil {
		return badRequest("invalid key", details...)
	}
	k, secret, err := a.keys.Create(r.Context(), req.Name, req.Role, "")
	if err != nil {
		return a.domainError(r, "create key", err)
	}
	// The secret is in this answer and nowhere else, ever.
	writeData(w, http.StatusCreated, struct {
		apiKey
		Key string `json:"key"`
	}{k, secret}, nil)
	return nil
}

func (a *api) deleteKey(w http.ResponseWriter, r *http.Request) *APIError {
	k, err := a.keys.Revoke(r.Context(), r.PathValue("id"), keyIDOf(r))
	if err != nil {
		return a.domainError(r, "revoke key", err)
	}
	// Its streams here end now; other collectors see the revocation at
	// their next refresh.
	a.keysChanged()
	writeData(w, http.StatusOK, k, nil)
	return nil
}
