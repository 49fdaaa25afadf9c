package insights

import (
	"sort"
	"strings"

	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/store"
)

// Real traffic names one model many ways: instrumented apps and the proxy
// store the response's model, a dated snapshot (gpt-4o-2024-08-06); other
// apps the alias they asked for; OpenRouter calls carry vendor/model names;
// fine-tunes carry ft:<base>:<org>:<suffix>:<id>. The recommendations group
// calls by the model as the pricing catalog resolves it
// (pricing.Catalog.ResolveModel, the resolution the cost processor prices
// with), so that those are one model here as they are one price there.

// billedOnly keeps the calls a provider performed. A refused call costs
// nothing and used nothing: its zero tokens would shorten the average answer
// (right-sizing), its segments or catalog credits would count as used.
// http_status also catches refusals stored before the cost processor marked
// them refused.
const billedOnly = "cost_status != 'refused' AND http_status < 400"

// callsWhereAnyModel is callsWhere without the model filter, which is then
// applied by resolved name (modelMatches): model=gpt-4o must find the calls
// recorded as gpt-4o-2024-08-06 that its Recommendation was made of.
func (w insightWindow) callsWhereAnyModel(extra string) (string, store.Params) {
	f := w.f
	f.Model = ""
	where, params := f.Where("timestamp")
	return where + " AND " + extra, params
}

// modelMatches applies the model filter to a call's model, recorded as raw
// and resolved as m: the same name, or the same model once resolved.
func (w insightWindow) modelMatches(prov, raw string, m pricing.Model) bool {
	if w.f.Model == "" || strings.EqualFold(strings.TrimSpace(raw), strings.TrimSpace(w.f.Model)) {
		return true
	}
	return w.cat.ResolveModel(prov, w.f.Model).Name == m.Name
}

// modelNames counts calls per model name as recorded, for the evidence: it
// says which names a Recommendation about a resolved model stands for.
type modelNames map[string]uint64

func (n modelNames) add(name string, calls uint64) { n[name] += calls }

// list renders the names sorted, with their calls.
func (n modelNames) list() []map[string]any {
	names := make([]string, 0, len(n))
	for k := range n {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]map[string]any, len(names))
	for i, k := range names {
		out[i] = map[string]any{"model": k, "calls": n[k]}
	}
	return out
}

type providerModel struct{ provider, name string }

// rightSizingPairs resolves the configured pairs' models as calls' models
// are, in the namespace of the provider that prices them: gpt-4o-2024-08-06
// as a key means gpt-4o. When two keys resolve to one model, the one that is
// its canonical name wins (ValidateUnder reports the clash).
func rightSizingPairs(cat *pricing.Catalog, models map[string]string) map[providerModel]string {
	keys := make([]string, 0, len(models))
	for k, v := range models {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make(map[providerModel]string, len(keys))
	canonical := make(map[providerModel]bool, len(keys))
	for _, k := range keys {
		prov := rightSizingProvider(k)
		name := cat.ResolveModel(prov, k).Name
		key := providerModel{prov, name}
		isCanonical := strings.EqualFold(strings.TrimSpace(k), name)
		if _, taken := out[key]; taken && (canonical[key] || !isCanonical) {
			continue
		}
		out[key], canonical[key] = models[k], isCanonical
	}
	return out
}

// pairFor is the cheaper model configured for m: its own pair, else its
// family's (a pinned snapshot with a price list of its own, such as
// gpt-4o-2024-05-13, is still a gpt-4o). A fine-tune is its own family: a
// pair for its base model is never suggested for it, as the fine-tuning is
// what it is used for.
func pairFor(pairs map[providerModel]string, prov string, m pricing.Model) string {
	if to, ok := pairs[providerModel{prov, m.Name}]; ok {
		return to
	}
	return pairs[providerModel{prov, m.Family}]
}
