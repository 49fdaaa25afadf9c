package insights

import (
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// Which provider a provider-specific kind of advice is about comes from
// the providers' descriptors (provider.Advice), never from a name written
// here: a provider that sells the same way gets the same advice. Each such
// kind, and its config block, is about one provider: the first, in display
// order, with the trait; "" when none has it, and the kind is not given.
func advisor(has func(provider.Advice) bool) string {
	if names := providers.Advised(has); len(names) > 0 {
		return names[0]
	}
	return ""
}

// directSeller sells its own models under bare names (gpt-4o-mini).
func directSeller() string { return advisor(func(a provider.Advice) bool { return a.DirectModels }) }

// gateway routes other vendors' models, named vendor/model.
func gateway() string { return advisor(func(a provider.Advice) bool { return a.Gateway }) }

// segmentBiller bills text messages per segment.
func segmentBiller() string { return advisor(func(a provider.Advice) bool { return a.SMSSegments }) }

// creditBiller bills from a plan of credits.
func creditBiller() string { return advisor(func(a provider.Advice) bool { return a.Credits }) }

// advisedFor tells whether advice about prov applies to a request filtered
// to filter ("" for every provider).
func advisedFor(prov, filter string) bool { return prov != "" && (filter == "" || filter == prov) }
