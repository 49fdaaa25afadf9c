// Package domainerr holds the errors the domain packages (spend, insights,
// apikeys, calls, providerstatus) return for outcomes a caller must tell
// apart: input that is refused, a thing that does not exist, a change that
// clashes with what is stored. They carry no transport: the API maps each
// to its HTTP status and body, and anything else is a failure of the store.
package domainerr

import (
	"errors"
	"strings"
)

// Field names one refused input and why.
type Field struct {
	Field   string
	Message string
}

// InvalidError is input the domain refuses; Fields names every bad one.
type InvalidError struct {
	// Summary says what was refused ("invalid budget").
	Summary string
	Fields  []Field
}

func (e *InvalidError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Field+": "+f.Message)
	}
	return e.Summary + ": " + strings.Join(parts, "; ")
}

// Invalid is an InvalidError for fields; nil when there are none, so that
// a validation can return its result as is.
func Invalid(summary string, fields ...Field) error {
	if len(fields) == 0 {
		return nil
	}
	return &InvalidError{Summary: summary, Fields: fields}
}

// NotFoundError is a thing that does not exist (or no longer does).
type NotFoundError struct{ Message string }

func (e *NotFoundError) Error() string { return e.Message }

// NotFound is a NotFoundError with message.
func NotFound(message string) error { return &NotFoundError{Message: message} }

// ConflictError is a change refused because of what is stored: a name
// taken, a key already revoked, the last admin key.
type ConflictError struct{ Message string }

func (e *ConflictError) Error() string { return e.Message }

// Conflict is a ConflictError with message.
func Conflict(message string) error { return &ConflictError{Message: message} }

// AsInvalid, AsNotFound and AsConflict find the error of their kind in
// err's chain.
func AsInvalid(err error) (*InvalidError, bool) {
	var e *InvalidError
	return e, errors.As(err, &e)
}

// AsNotFound finds a NotFoundError in err's chain.
func AsNotFound(err error) (*NotFoundError, bool) {
	var e *NotFoundError
	return e, errors.As(err, &e)
}

// AsConflict finds a ConflictError in err's chain.
func AsConflict(err error) (*ConflictError, bool) {
	var e *ConflictError
	return e, errors.As(err, &e)
}
