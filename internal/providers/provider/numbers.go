package provider

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Decimal reads a JSON value decoded with UseNumber — a number, a numeric
// string (Twilio sends counts and balances as strings), or null — as an
// exact decimal. ok is false for null, empty and non-numeric values, which
// callers skip rather than store as 0.
func Decimal(v any) (decimal.Decimal, bool) {
	switch x := v.(type) {
	case json.Number:
		d, err := decimal.NewFromString(x.String())
		return d, err == nil
	case string:
		x = strings.TrimSpace(x)
		if x == "" {
			return decimal.Decimal{}, false
		}
		d, err := decimal.NewFromString(x)
		return d, err == nil
	case float64:
		// Only reached for values not decoded with UseNumber; the shortest
		// decimal form is the text the provider sent.
		d, err := decimal.NewFromString(strconv.FormatFloat(x, 'f', -1, 64))
		return d, err == nil
	case int64:
		return decimal.NewFromInt(x), true
	case int:
		return decimal.NewFromInt(int64(x)), true
	}
	return decimal.Decimal{}, false
}

// Quantity is Decimal for a count (tokens, requests, messages, credits): a
// negative value is no count but a corrupt answer, and is skipped like null
// rather than stored to subtract from the totals. Money (cost, price,
// balance) may be negative and is read with Decimal.
func Quantity(v any) (decimal.Decimal, bool) {
	d, ok := Decimal(v)
	if !ok || d.IsNegative() {
		return decimal.Decimal{}, false
	}
	return d, true
}
