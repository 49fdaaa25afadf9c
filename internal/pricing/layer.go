package pricing

import (
	"errors"
	"slices"
	"strings"
)

// WithLayers returns a catalog with price lists added at run time on top
// of c (the built-in catalog with the config's overrides): each layer is
// a generation of its own, so a list in a later layer replaces one with
// the same key and effective date from c or an earlier layer, and two
// lists of one layer with the same key and date are an error. The
// version is c's followed by "+" label "." and a hash of the layers'
// lists, so that two collectors with the same lists store the same one.
// With no list in any layer, c itself is returned.
func (c *Catalog) WithLayers(label string, layers ...[]Entry) (*Catalog, error) {
	total := 0
	for _, l := range layers {
		total += len(l)
	}
	if total == 0 {
		return c, nil
	}
	gen := 1
	if n := len(c.entries); n > 0 {
		gen = c.entries[n-1].gen + 1
	}
	all := slices.Clip(c.entries)
	var added []normEntry
	var errs []error
	for i, l := range layers {
		norm, err := c.normalize(l, label, gen+i)
		if err != nil {
			errs = append(errs, err)
		}
		added = append(added, norm...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	nc := &Catalog{version: c.version, schemes: c.schemes, creditRate: c.creditRate, hasCreditRate: c.hasCreditRate}
	if err := nc.build(append(all, added...)); err != nil {
		return nil, err
	}
	nc.version = c.version + "+" + label + "." + overridesHash(added, "")
	return nc, nil
}

// FieldProblem is what is wrong with one field of an entry: Field is
// provider, model, operation, country, effective, credits, prices or
// prices.<unit>.
type FieldProblem struct {
	Field, Message string
}

// CheckEntry says what is wrong with e as an entry of c, field by field
// (nothing when it would be accepted). It checks the entry alone: whether
// it clashes with another is build's concern.
func (c *Catalog) CheckEntry(e Entry) []FieldProblem {
	const path = "entry"
	_, err := c.normalize([]Entry{e}, path, 0)
	if err == nil {
		return nil
	}
	var out []FieldProblem
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		out = append(out, fieldOf(strings.TrimPrefix(err.Error(), path+"[0]")))
	}
	walk(err)
	return out
}

// fieldOf names the field of one of normalizeEntry's messages, which
// start with ".prices.<unit>: ", ".credits: " or ": ".
func fieldOf(msg string) FieldProblem {
	if rest, ok := strings.CutPrefix(msg, "."); ok {
		if field, text, ok := strings.Cut(rest, ": "); ok {
			return FieldProblem{Field: field, Message: text}
		}
	}
	// The field a message is about is the one it names first ("model
	// \"x\" is not used for exa prices (they are per operation)").
	text := strings.TrimPrefix(msg, ": ")
	best, at := "prices", len(text)
	for _, f := range []string{"effective", "provider", "country", "credits", "operation", "model", "prices"} {
		if i := strings.Index(text, f); i >= 0 && i < at {
			best, at = f, i
		}
	}
	return FieldProblem{Field: best, Message: text}
}
