package provider

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Str reads a string field; null, absent and non-strings are "".
func Str(v any) string {
	s, _ := v.(string)
	return s
}

// CheckCall is Client.CheckWith with a query, the rate limits of the
// answer (rl may be nil) and the message cleaned of credentials by clean
// (nil: only the client's Secrets, which Do removes).
func CheckCall(ctx context.Context, c *Client, path string, q url.Values, rl func(http.Header) []RateLimit, clean func(error) error) Check {
	began := time.Now()
	resp, err := c.Do(ctx, http.MethodGet, path, q, nil, nil)
	if clean != nil {
		err = clean(err)
	}
	ch := CheckOf(resp, err)
	if resp == nil {
		ch.Latency = time.Since(began)
	} else if rl != nil {
		ch.RateLimits = rl(resp.Header)
	}
	return ch
}

// Bearer sets Authorization: Bearer key (nothing when key is empty).
func Bearer(key string) func(*http.Request) {
	return func(r *http.Request) {
		if key != "" {
			r.Header.Set("Authorization", "Bearer "+key)
		}
	}
}

// Stops says whether a failed call should end the poll: the next
// calls would fail the same way, or add to a rate limit.
func Stops(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	switch ClassOf(err) {
	case ClassAuthFailed, ClassQuotaExhausted, ClassRateLimited,
		ClassTimeout, ClassNetwork:
		return true
	}
	return false
}

// classRank orders error classes by what an operator must do first:
// ClassOf of a joined error is the class of its first *Error.
func classRank(class string) int {
	order := []string{ClassAuthFailed, ClassQuotaExhausted, ClassRateLimited,
		ClassTimeout, ClassNetwork, ClassServerError, ClassBadResponse,
		ClassClientError}
	if i := slices.Index(order, class); i >= 0 {
		return i
	}
	return len(order)
}

// JoinErrors joins errs, the most pressing class first; nil when none.
func JoinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	errs = slices.Clone(errs)
	slices.SortStableFunc(errs, func(a, b error) int {
		return classRank(ClassOf(a)) - classRank(ClassOf(b))
	})
	return errors.Join(errs...)
}
