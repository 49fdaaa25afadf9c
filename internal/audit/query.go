package audit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Page sizes.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
	// exportPage is how many entries Export and Verify hold at once: the
	// store answers a query as a whole, so a page is the memory bound.
	exportPage = 1000
	// maxCursor bounds a cursor before it is decoded.
	maxCursor = 512
)

// Filter selects entries. Tenant is the caller's tenant, set by the API
// from the key or session ("" the installation's entries); TenantAll reads
// every tenant, for installation admins. The other fields are exact
// matches ("" any), From and To the range [From, To) of At (zero: open).
type Filter struct {
	Tenant       string
	TenantAll    bool
	ActorID      string
	Action       string
	ResourceType string
	ResourceID   string
	From, To     time.Time
	// Limit is List's page size, 1 to MaxLimit (0: DefaultLimit).
	Limit int
	// Cursor continues List after a page: the next it returned.
	Cursor string
}

// position is an entry's place in the order of pages: (at, tenant, seq).
type position struct {
	At     int64  `json:"a"` // microseconds
	Tenant string `json:"t"`
	Seq    uint64 `json:"s"`
}

func positionOf(e Entry) position {
	return position{At: e.At.UnixMicro(), Tenant: e.Tenant, Seq: e.Seq}
}

func (p position) cursor() string {
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseCursor(c string) (position, bool) {
	if len(c) > maxCursor {
		return position{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return position{}, false
	}
	var p position
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.Seq == 0 {
		return position{}, false
	}
	return p, true
}

const timeParam = "2006-01-02 15:04:05.000000"

func formatTime(t time.Time) string { return t.UTC().Format(timeParam) }

// query renders the filter's read of the table: entries after pos (in the
// direction of desc; nil from the start), limit of them (withTies: and
// those tied with the last, so that keyset pages skip none).
func (f Filter) query(s store.Store, pos *position, desc bool, limit int, withTies bool) (string, store.Params) {
	params := store.Params{}
	var cond strings.Builder
	cond.WriteString("1")
	if !f.TenantAll {
		params["tenant"] = f.Tenant
		cond.WriteString(" AND tenant = {tenant:String}")
	}
	for _, m := range []struct{ col, val string }{
		{"actor_id", f.ActorID}, {"action", f.Action}, {"resource_type", f.ResourceType}, {"resource_id", f.ResourceID},
	} {
		if m.val != "" {
			params[m.col] = m.val
			cond.WriteString(" AND " + m.col + " = {" + m.col + ":String}")
		}
	}
	if !f.From.IsZero() {
		params["from"] = formatTime(f.From)
		cond.WriteString(" AND at >= {from:DateTime64(6, 'UTC')}")
	}
	if !f.To.IsZero() {
		params["to"] = formatTime(f.To)
		cond.WriteString(" AND at < {to:DateTime64(6, 'UTC')}")
	}
	dir, cmp := "ASC", ">"
	if desc {
		dir, cmp = "DESC", "<"
	}
	if pos != nil {
		params["c_at"] = formatTime(time.UnixMicro(pos.At))
		params["c_tenant"] = pos.Tenant
		params["c_seq"] = strconv.FormatUint(pos.Seq, 10)
		// The plain bound on at lets the engine skip whole months
		// (partitions) that the tuple alone would not.
		cond.WriteString(" AND at " + cmp + "= {c_at:DateTime64(6, 'UTC')}" +
			" AND (at, tenant, seq) " + cmp + " ({c_at:DateTime64(6, 'UTC')}, {c_tenant:String}, {c_seq:UInt64})")
	}
	params["limit"] = strconv.Itoa(limit)
	ties := ""
	if withTies {
		ties = " WITH TIES"
	}
	return "SELECT " + strings.Join(columns, ", ") + " FROM " + schema.Table(s, Table) + " WHERE " + cond.String() +
		" ORDER BY at " + dir + ", tenant " + dir + ", seq " + dir + " LIMIT {limit:UInt32}" + ties, params
}

// check names the filter's bad fields for List.
func (f Filter) check() (*position, int, error) {
	var bad []domainerr.Field
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		bad = append(bad, domainerr.Field{Field: "limit", Message: "must be 1 to " + strconv.Itoa(MaxLimit)})
	}
	var pos *position
	if f.Cursor != "" {
		p, ok := parseCursor(f.Cursor)
		if !ok {
			bad = append(bad, domainerr.Field{Field: "cursor", Message: "not a cursor this list returned"})
		}
		pos = &p
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		bad = append(bad, domainerr.Field{Field: "to", Message: "must not be before from"})
	}
	return pos, limit, domainerr.Invalid("invalid audit query", bad...)
}

// List is a page of the entries f selects, newest first, and the cursor
// of the next page ("" after the last). Pages follow (at, tenant, seq), so
// entries appended meanwhile neither shift nor repeat a later page. A bad
// limit, cursor or range is a *domainerr.InvalidError naming the field.
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, string, error) {
	pos, limit, err := f.check()
	if err != nil {
		return nil, "", err
	}
	q, params := f.query(l.store, pos, true, limit+1, false)
	entries, err := l.read(ctx, q, params, false)
	if err != nil {
		return nil, "", fmt.Errorf("list audit entries: %w", err)
	}
	if len(entries) <= limit {
		return entries, "", nil
	}
	entries = entries[:limit]
	return entries, positionOf(entries[limit-1]).cursor(), nil
}

// Export writes every entry f selects to w as NDJSON, oldest first, one
// entry per line, a page at a time; it returns how many it wrote. f's
// Limit and Cursor do not apply.
func (l *Log) Export(ctx context.Context, f Filter, w io.Writer) (int, error) {
	f.Limit, f.Cursor = 0, ""
	if _, _, err := f.check(); err != nil {
		return 0, err
	}
	n := 0
	var pos *position
	for {
		q, params := f.query(l.store, pos, false, l.page, true)
		page, err := l.read(ctx, q, params, false)
		if err != nil {
			return n, fmt.Errorf("export audit entries: %w", err)
		}
		for _, e := range page {
			line, err := json.Marshal(e)
			if err != nil {
				return n, fmt.Errorf("export audit entry %q/%d: %w", e.Tenant, e.Seq, err)
			}
			if _, err := w.Write(append(line, '\n')); err != nil {
				return n, fmt.Errorf("export audit entries: %w", err)
			}
			n++
		}
		if len(page) < l.page {
			return n, nil
		}
		p := positionOf(page[len(page)-1])
		pos = &p
	}
}

// read runs q, a read of columns. Unless raw, a before or after that is
// not JSON (only an edit of the table makes one) comes as a JSON string of
// its text, so the entry can still be shown, and still fails Verify.
func (l *Log) read(ctx context.Context, q string, params store.Params, raw bool) ([]Entry, error) {
	rows, err := l.store.Query(ctx, q, params)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var before, after string
		if err := rows.Scan(&e.Tenant, &e.Seq, &e.At, &e.ActorType, &e.ActorID, &e.Via, &e.Action, &e.ResourceType,
			&e.ResourceID, &before, &after, &e.RequestID, &e.ClientAddr, &e.Outcome, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		e.Before, e.After = rawJSON(before, raw), rawJSON(after, raw)
		out = append(out, e)
	}
	return out, rows.Err()
}

func rawJSON(s string, raw bool) json.RawMessage {
	if s == "" {
		return nil
	}
	if !raw && !json.Valid([]byte(s)) {
		b, _ := json.Marshal(s)
		return b
	}
	return json.RawMessage(s)
}
