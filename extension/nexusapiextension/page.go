package nexusapiextension

import (
	"net/http"
	"sort"
	"strconv"
)

const (
	defaultLimit = 50
	maxLimit     = 1000
)

type page struct{ Page, Limit int }

// parsePage reads page (from 1) and limit (1–1000, default 50).
func parsePage(r *http.Request) (page, *APIError) {
	p := page{Page: 1, Limit: defaultLimit}
	var details []FieldError
	q := r.URL.Query()
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			details = append(details, FieldError{Field: "page", Message: "must be a whole number from 1"})
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

func (p page) offset() int { return (p.Page - 1) * p.Limit }

// of is the envelope's pagination for total items.
func (p page) of(total int64) *Pagination {
	return &Pagination{Page: p.Page, Limit: p.Limit, Total: total, TotalPages: (total + int64(p.Limit) - 1) / int64(p.Limit)}
}

// paginate returns the page's slice of items (empty past the end).
func paginate[T any](items []T, p page) []T {
	start := min(p.offset(), len(items))
	end := min(start+p.Limit, len(items))
	return items[start:end]
}

func sortKeys(ks []apiKey) {
	sort.Slice(ks, func(i, j int) bool {
		return ks[i].CreatedAt.Before(ks[j].CreatedAt) || (ks[i].CreatedAt.Equal(ks[j].CreatedAt) && ks[i].ID < ks[j].ID)
	})
}
