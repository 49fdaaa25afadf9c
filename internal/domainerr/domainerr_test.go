package domainerr

import (
	"fmt"
	"testing"
)

// A validation with nothing to say is no error; each kind is found
// through wrapping, as the API finds it.
func TestKindsThroughWrapping(t *testing.T) {
	if err := Invalid("invalid budget"); err != nil {
		t.Fatalf("no fields: %v", err)
	}
	err := fmt.Errorf("create: %w", Invalid("invalid budget", Field{"name", "required"}, Field{"period", "required"}))
	if e, ok := AsInvalid(err); !ok || e.Summary != "invalid budget" || len(e.Fields) != 2 ||
		err.Error() != "create: invalid budget: name: required; period: required" {
		t.Fatalf("invalid: %v", err)
	}
	if e, ok := AsNotFound(fmt.Errorf("read: %w", NotFound("no budget x"))); !ok || e.Message != "no budget x" {
		t.Fatal("not found lost in wrapping")
	}
	if _, ok := AsConflict(NotFound("x")); ok {
		t.Fatal("a not found taken for a conflict")
	}
}
