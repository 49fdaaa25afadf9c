package pricebook

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// SyncTable is where each sync run is recorded (migration 0018).
const SyncTable = "price_syncs"

// Fetched is what one read of a published price list gave: the lists
// (their Effective unset) and how many models it left out.
type Fetched struct {
	Entries []pricing.Entry
	Skipped int
}

// SyncResult is one sync run.
type SyncResult struct {
	Source  string    `json:"source"`
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	Models  int       `json:"models"`
	Skipped int       `json:"skipped"`
	Changed int       `json:"changed"`
	Message string    `json:"message,omitempty"`
}

// Sync stores, for every tenant, the lists of fetch whose prices differ
// from the latest the source stored (new models, changed prices) as
// effective today: a price never moves a day already past. A failed or
// empty fetch stores nothing, so the last good prices stay. The run is
// recorded either way; its error is returned too.
func Sync(ctx context.Context, s store.Store, source string, fetch func(context.Context) (Fetched, error), now time.Time) (SyncResult, error) {
	run := SyncResult{Source: source, At: now.UTC().Truncate(time.Millisecond)}
	err := func() error {
		got, err := fetch(ctx)
		if err != nil {
			return fmt.Errorf("fetch %s prices: %w", source, err)
		}
		run.Models, run.Skipped = len(got.Entries), got.Skipped
		if len(got.Entries) == 0 {
			return fmt.Errorf("fetch %s prices: the list has no priced model", source)
		}
		lists, err := readAll(ctx, s)
		if err != nil {
			return err
		}
		latest := map[listKey]List{} // by key, effective date blank
		for _, l := range lists {
			if l.Tenant != AllTenants || l.Source != source {
				continue
			}
			k := keyOf(l.Entry)
			k.effective = ""
			if cur, ok := latest[k]; !ok || l.Effective > cur.Effective {
				latest[k] = l
			}
		}
		today := now.UTC().Format(time.DateOnly)
		var changed []List
		for _, e := range got.Entries {
			e = normal(e)
			k := keyOf(e)
			k.effective = ""
			if cur, ok := latest[k]; ok && samePrices(cur.Entry, e) {
				continue
			}
			e.Effective = today
			changed = append(changed, List{Entry: e, Source: source, Tenant: AllTenants, AddedAt: run.At, AddedBy: "sync:" + source})
		}
		run.Changed = len(changed)
		return write(ctx, s, changed)
	}()
	run.OK = err == nil
	if err != nil {
		run.Message = err.Error()
	}
	if rerr := recordRun(ctx, s, run); rerr != nil && err == nil {
		err = rerr
	}
	return run, err
}

// samePrices compares two lists' prices by value ("2.5" is "2.50").
func samePrices(a, b pricing.Entry) bool {
	if a.Credits != b.Credits || len(a.Prices) != len(b.Prices) {
		return false
	}
	return maps.EqualFunc(a.Prices, b.Prices, func(x, y string) bool {
		mx, ex := pricing.ParseMoney(x)
		my, ey := pricing.ParseMoney(y)
		return ex == nil && ey == nil && mx == my
	})
}

func recordRun(ctx context.Context, s store.Store, r SyncResult) error {
	b, err := s.PrepareBatch(ctx, SyncTable, []string{"source", "at", "ok", "models", "skipped", "changed", "message"})
	if err != nil {
		return fmt.Errorf("record %s price sync: %w", r.Source, err)
	}
	msg := r.Message
	if len(msg) > 2048 {
		msg = msg[:2048]
	}
	if err := b.Append(r.Source, r.At, r.OK, uint32(r.Models), uint32(r.Skipped), uint32(r.Changed), msg); err != nil {
		_ = b.Abort()
		return fmt.Errorf("record %s price sync: %w", r.Source, err)
	}
	if err := b.Send(ctx); err != nil {
		return fmt.Errorf("record %s price sync: %w", r.Source, err)
	}
	return nil
}

// SyncHealth is how a source's sync is doing: its last run and its last
// successful one (zero when none).
type SyncHealth struct {
	Last        SyncResult `json:"last"`
	LastSuccess time.Time  `json:"lastSuccess,omitzero"`
}

// Health reads source's sync health; ok is false when it never ran.
func Health(ctx context.Context, s store.Store, source string) (SyncHealth, bool, error) {
	rows, err := s.Query(ctx, "SELECT at, ok, models, skipped, changed, message, "+
		"(SELECT max(at) FROM "+schema.Table(s, SyncTable)+" WHERE source = {source:String} AND ok) FROM "+schema.Table(s, SyncTable)+
		" WHERE source = {source:String} ORDER BY at DESC LIMIT 1", store.Params{"source": source})
	if err != nil {
		return SyncHealth{}, false, fmt.Errorf("read %s price sync health: %w", source, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return SyncHealth{}, false, rows.Err()
	}
	var h SyncHealth
	var models, skipped, changed uint32
	h.Last.Source = source
	if err := rows.Scan(&h.Last.At, &h.Last.OK, &models, &skipped, &changed, &h.Last.Message, &h.LastSuccess); err != nil {
		return SyncHealth{}, false, fmt.Errorf("read %s price sync health: %w", source, err)
	}
	h.Last.Models, h.Last.Skipped, h.Last.Changed = int(models), int(skipped), int(changed)
	if h.LastSuccess.Unix() <= 0 {
		h.LastSuccess = time.Time{}
	}
	return h, true, rows.Err()
}
