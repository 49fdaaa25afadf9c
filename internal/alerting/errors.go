package alerting

import (
	"errors"
	"strings"
)

// ErrNotFound is wrapped by the errors of a rule or event that does not
// exist (or was deleted); the error's text names it.
var ErrNotFound = errors.New("not found")

// ErrConflict is wrapped by the errors of a change the current state
// refuses: a config rule changed through the API, an event acknowledged
// twice. The error's text says why.
var ErrConflict = errors.New("conflict")

// domainError is a sentinel with the words a user is shown.
type domainError struct {
	kind error
	msg  string
}

func (e *domainError) Error() string { return e.msg }
func (e *domainError) Unwrap() error { return e.kind }

func notFound(msg string) error { return &domainError{kind: ErrNotFound, msg: msg} }
func conflict(msg string) error { return &domainError{kind: ErrConflict, msg: msg} }

// FieldError names one invalid field and what is wrong with it. Field
// names are the API's (camelCase); the collector config's keys are
// derived from them.
type FieldError struct {
	Field   string
	Message string
}

// ValidationError is a rule or a query refused for its content: every
// invalid field, in a stable order.
type ValidationError struct {
	// Message sums the refusal up ("invalid alert rule").
	Message string
	Fields  []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return e.Message + ": " + strings.Join(parts, "; ")
}
