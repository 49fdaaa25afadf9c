package schema

import (
	"strings"

	"github.com/nexus-otel/nexus/internal/store"
)

// Family is a set of rollups of the calls holding the same dimensions. The
// calls family (api_calls_1m/1h/1d) holds the tenant, the scope columns,
// team and feature; the customer, user and tag families add their own
// dimension to a day rollup of those. A read is answered by the one family
// holding every dimension it filters or groups by, or by the raw calls
// when none does (customer and user together, say).
type Family int

// Families.
const (
	FamilyCalls Family = iota
	FamilyCustomer
	FamilyUser
	FamilyTag
	FamilyRaw
)

// Tables of the attribution families' day rollups.
const (
	TableCallsCustomer1d = "api_calls_customer_1d"
	TableCallsUser1d     = "api_calls_user_1d"
	TableCallsTag1d      = "api_calls_tag_1d"
	// The customer and user families also have hours, for the partial
	// days at a range's ends (one customer's hours are a range of the key;
	// raw calls would be a scan of everyone's day).
	TableCallsCustomer1h = "api_calls_customer_1h"
	TableCallsUser1h     = "api_calls_user_1h"
	// And the last month of raw calls sorted by their dimension, for the
	// partial hours at a range's ends (in api_calls an hour is a granule
	// of every provider and service, whoever is asked).
	TableCallsByCustomer = "api_calls_by_customer"
	TableCallsByUser     = "api_calls_by_user"
)

// Dimensions a read may group by besides ScopeFields: the attribution ones
// only some families hold. A tag grouping is "tag.<name>".
const (
	DimCustomer = "customer"
	DimUser     = "user"
	TagPrefix   = "tag."
)

// Table is the family's rollup at grain g, "" when it has none (the
// customer and user families have recent raw calls, hours and days, the
// tag family days, the raw family nothing).
func (f Family) Table(g int) string {
	switch f {
	case FamilyCalls:
		if g >= 0 && g < len(Grains) {
			return Grains[g].Table
		}
	case FamilyCustomer:
		switch g {
		case GrainDay:
			return TableCallsCustomer1d
		case GrainHour:
			return TableCallsCustomer1h
		case GrainRaw:
			return TableCallsByCustomer
		}
	case FamilyUser:
		switch g {
		case GrainDay:
			return TableCallsUser1d
		case GrainHour:
			return TableCallsUser1h
		case GrainRaw:
			return TableCallsByUser
		}
	case FamilyTag:
		if g == GrainDay {
			return TableCallsTag1d
		}
	}
	return ""
}

// String names the family by its coarsest table (its raw calls for the raw
// family), as reads report where they came from.
func (f Family) String() string {
	if t := f.Table(GrainDay); t != "" {
		return t
	}
	return TableCalls
}

// IsTagGroup tells whether a grouping is a tag's ("tag.<name>") and
// which tag.
func IsTagGroup(group string) (string, bool) {
	if name, ok := strings.CutPrefix(group, TagPrefix); ok && name != "" {
		return name, true
	}
	return "", false
}

// FamilyOf is the family that answers a read of scope grouped by groups
// (column names, DimCustomer, DimUser or "tag.<name>"; time keys are
// ignored): the one holding every attribution dimension used, the raw
// calls when they take more than one family (a customer and a user, two
// different tags).
func FamilyOf(scope Scope, groups ...string) Family {
	fam := FamilyCalls
	tag := scope.TagKey
	use := func(f Family) {
		switch fam {
		case FamilyCalls, f:
			fam = f
		default:
			fam = FamilyRaw
		}
	}
	if scope.Customer != "" {
		use(FamilyCustomer)
	}
	if scope.User != "" {
		use(FamilyUser)
	}
	if scope.TagKey != "" {
		use(FamilyTag)
	}
	for _, g := range groups {
		switch g {
		case DimCustomer:
			use(FamilyCustomer)
		case DimUser:
			use(FamilyUser)
		default:
			if name, ok := IsTagGroup(g); ok {
				if tag != "" && tag != name {
					fam = FamilyRaw
				}
				tag = name
				use(FamilyTag)
			}
		}
	}
	return fam
}

// Cond is the scope as conditions on a table of family fam (FamilyRaw: the
// raw calls), each starting " AND ", its parameters added to params. The
// tag is a map lookup on raw calls and a pair of key columns in the tag
// rollup; a family that lacks a dimension the scope sets is a planning bug,
// not a request's fault, so it reads nothing rather than everything.
func (s Scope) Cond(fam Family, params store.Params) string {
	c := s.tenantCond(params)
	for _, name := range ScopeFields {
		if v := *s.Field(name); v != "" {
			c += " AND " + name + " = {" + name + ":String}"
			params[name] = v
		}
	}
	dim := func(col, v string, in Family) {
		if v == "" {
			return
		}
		params[col] = v
		if fam == FamilyRaw || fam == in {
			c += " AND " + col + " = {" + col + ":String}"
		} else {
			c += " AND 0"
		}
	}
	dim(DimCustomer, s.Customer, FamilyCustomer)
	dim(DimUser, s.User, FamilyUser)
	if s.TagKey != "" {
		params["tag_key"], params["tag_value"] = s.TagKey, s.TagValue
		switch fam {
		case FamilyRaw:
			c += " AND tags[{tag_key:String}] = {tag_value:String}"
		case FamilyTag:
			c += " AND tag_key = {tag_key:String} AND tag_value = {tag_value:String}"
		default:
			c += " AND 0"
		}
	}
	return c
}
