package nexusapiextension

import (
	"net/http"
	"strconv"
)

const (
	defaultLimit = 50
	maxLimit     = 1000
	// maxPage bounds page so that (page-1) × limit always fits: a page
	// near 2^62 used to wrap the offset negative and panic the slicing.
	// A billion pages of a thousand is more than any resource holds.
	maxPage = 1_000_000_000
)

type page struct{ Page, Limit int }

// parsePage reads page (from 1) and limit (1–1000, default 50).
func parsePage(r *http.Request) (page, *APIError) {
	p := page{Page: 1, Limit: defaultLimit}
	var details []FieldError
	q := r.URL.Query()
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			details = append(details, FieldError{Field: "page", Message: "must be a whole number from 1 to 1000000000"})
		} else {
			p.Page = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			details = append(details, FieldError{Field: "limit", Message: "must be a whole number from 1 to 1000"})
		} else {
			p.Limit = n
		}
	}
	if details != nil {
		return p, badRequest("invalid pagination", details...)
	}
	return p, nil
}

// offset is how many items the page skips; parsePage's bounds keep it
// below 10^12, so it never overflows.
func (p page) offset() int64 { return int64(p.Page-1) * int64(p.Limit) }

// of is the envelope's pagination for total items.
func (p page) of(total int64) *Pagination {
	return &Pagination{Page: p.Page, Limit: p.Limit, Total: total, TotalPages: (total + int64(p.Limit) - 1) / int64(p.Limit)}
}

// paginate returns the page's slice of items (empty past the end).
func paginate[T any](items []T, p page) []T {
	start := int(min(p.offset(), int64(len(items))))
	end := min(start+p.Limit, len(items))
	return items[start:end]
}
