package nexusapiextension

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// Version is reported in every response's meta.
const Version = "0.1.0"

// Pagination is the envelope's pagination block.
type Pagination struct {
	Page       int   `json:"page"`
	Limit      int   `json:"limit"`
	Total      int64 `json:"total"`
	TotalPages int64 `json:"totalPages"`
}

type meta struct {
	Timestamp string `json:"timestamp"`
	Version   string `json:"version"`
	// Warnings are what a client should know of an accepted write.
	Warnings []string `json:"warnings,omitempty"`
}

type success struct {
	Success    bool        `json:"success"`
	Data       any         `json:"data"`
	Pagination *Pagination `json:"pagination,omitempty"`
	Meta       meta        `json:"meta"`
}

// FieldError names one bad field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// APIError is an error answer: {"success":false,"error":{code,message,details},"requestId"}.
type APIError struct {
	Status  int          `json:"-"`
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Details []FieldError `json:"details,omitempty"`
}

func (e *APIError) Error() string { return e.Message }

type failure struct {
	Success   bool      `json:"success"`
	Error     *APIError `json:"error"`
	RequestID string    `json:"requestId"`
}

// Error codes, one per status the API answers.
func badRequest(msg string, details ...FieldError) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Message: msg, Details: details}
}
func unauthorized(msg string) *APIError {
	return &APIError{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: msg}
}
func forbidden(msg string) *APIError {
	return &APIError{Status: http.StatusForbidden, Code: "FORBIDDEN", Message: msg}
}
func notFound(msg string) *APIError {
	return &APIError{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: msg}
}
func conflict(msg string) *APIError {
	return &APIError{Status: http.StatusConflict, Code: "CONFLICT", Message: msg}
}
func tooMany(msg string) *APIError {
	return &APIError{Status: http.StatusTooManyRequests, Code: "RATE_LIMITED", Message: msg}
}
func unavailable(code, msg string) *APIError {
	return &APIError{Status: http.StatusServiceUnavailable, Code: code, Message: msg}
}
func internal() *APIError {
	return &APIError{Status: http.StatusInternalServerError, Code: "INTERNAL_ERROR", Message: "internal error; see the collector log for this request id"}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

// writeData answers 2xx with the success envelope.
func writeData(w http.ResponseWriter, status int, data any, p *Pagination) {
	writeEnvelope(w, status, data, p, nil)
}

// writeWarned answers an accepted write with the warnings it carries.
func writeWarned(w http.ResponseWriter, status int, data any, warnings []string) {
	writeEnvelope(w, status, data, nil, warnings)
}

func writeEnvelope(w http.ResponseWriter, status int, data any, p *Pagination, warnings []string) {
	writeJSON(w, status, success{Success: true, Data: data, Pagination: p,
		Meta: meta{Timestamp: time.Now().UTC().Format(time.RFC3339Nano), Version: Version, Warnings: warnings}})
}

// writeError answers with the error envelope.
func writeError(w http.ResponseWriter, r *http.Request, err *APIError) {
	writeJSON(w, err.Status, failure{Success: false, Error: err, RequestID: requestID(r)})
}

// decodeBody reads a JSON body into v: unknown fields, wrong types, trailing
// data and oversized bodies are refused naming what is wrong.
func decodeBody(r *http.Request, limit int64, v any) *APIError {
	body := http.MaxBytesReader(nil, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &tooLarge):
			return &APIError{Status: http.StatusRequestEntityTooLarge, Code: "PAYLOAD_TOO_LARGE",
				Message: fmt.Sprintf("request body larger than %d bytes", limit)}
		case errors.As(err, &typeErr):
			// The whole body has no field name ("[]" where an object
			// belongs); the type is said in JSON's words, not Go's.
			field := typeErr.Field
			if field == "" {
				field = "body"
			}
			return badRequest("invalid field type", FieldError{Field: field, Message: "must be " + jsonType(typeErr.Type)})
		case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("invalid JSON body", FieldError{Field: "body", Message: err.Error()})
		case errors.Is(err, io.EOF):
			return badRequest("request body is empty", FieldError{Field: "body", Message: "required"})
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			if name == "" {
				// A key "" has no name to report it by.
				return badRequest("unknown field", FieldError{Field: "body", Message: `unknown field ""`})
			}
			return badRequest("unknown field", FieldError{Field: name, Message: "unknown field"})
		}
		return badRequest("invalid JSON body", FieldError{Field: "body", Message: err.Error()})
	}
	if dec.More() {
		return badRequest("invalid JSON body", FieldError{Field: "body", Message: "trailing data after the JSON value"})
	}
	return nil
}

// jsonType names what a Go type decodes from, in JSON's terms.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Name() == "RawMessage" {
			return "a JSON value"
		}
		return "a JSON array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "of another type"
}
