package costprocessor

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/nexus-otel/nexus/internal/attribution"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// AttributionConfig says where each attribution dimension of a call is read
// from, and how large a value may be. Each dimension is an ordered list of
// attribute keys: every key is looked up on the span (or log record) first,
// then on its resource, so that a value set on one call wins over the
// process-wide one. The first non-empty value wins.
type AttributionConfig struct {
	Customer []string `mapstructure:"customer"`
	User     []string `mapstructure:"user"`
	Team     []string `mapstructure:"team"`
	Feature  []string `mapstructure:"feature"`
	// TagPrefixes: every attribute whose key starts with one of these is
	// a tag, named by the rest of the key (nexus.tag.env → env).
	TagPrefixes []string `mapstructure:"tag_prefixes"`

	// Values longer than MaxValueBytes (dimension and tag values) and tag
	// names longer than MaxTagNameBytes are cut, control characters
	// removed; tags past MaxTags are dropped (by name order, so the same
	// call keeps the same tags). Each is counted in
	// nexus.cost.attribution.truncated.
	MaxValueBytes   int `mapstructure:"max_value_bytes"`
	MaxTagNameBytes int `mapstructure:"max_tag_name_bytes"`
	MaxTags         int `mapstructure:"max_tags"`
}

func defaultAttribution() AttributionConfig {
	return AttributionConfig{
		Customer:        []string{semconv.AttrCustomer, "customer.id", "app.customer.id"},
		User:            []string{semconv.AttrUser, "enduser.id", "user.id"},
		Team:            []string{semconv.AttrTeam, "team"},
		Feature:         []string{semconv.AttrFeature, "feature"},
		TagPrefixes:     []string{semconv.AttrTagPrefix},
		MaxValueBytes:   attribution.DefaultMaxValueBytes,
		MaxTagNameBytes: attribution.DefaultMaxTagNameBytes,
		MaxTags:         attribution.DefaultMaxTags,
	}
}

// validate checks the attribution settings (unexported: Config.Validate
// calls it, and the collector would report its errors twice if it found
// an exported Validate here too); each error names its key
// below attribution.
func (c *AttributionConfig) validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		keys []string
	}{{"customer", c.Customer}, {"user", c.User}, {"team", c.Team}, {"feature", c.Feature}} {
		for i, k := range d.keys {
			if strings.TrimSpace(k) == "" {
				errs = append(errs, fmt.Errorf("attribution.%s[%d]: empty attribute key", d.name, i))
			}
		}
	}
	for i, p := range c.TagPrefixes {
		if p == "" {
			// An empty prefix would make every attribute a tag.
			errs = append(errs, fmt.Errorf("attribution.tag_prefixes[%d]: empty prefix", i))
		}
	}
	limit := func(key string, v, ceiling int) {
		if v < 1 || v > ceiling {
			errs = append(errs, fmt.Errorf("attribution.%s: %d is outside 1..%d", key, v, ceiling))
		}
	}
	limit("max_value_bytes", c.MaxValueBytes, attribution.CeilingValueBytes)
	limit("max_tag_name_bytes", c.MaxTagNameBytes, attribution.CeilingTagNameBytes)
	limit("max_tags", c.MaxTags, attribution.CeilingTags)
	return errors.Join(errs...)
}

// Dimensions, in the order of the truncation counter's attribute values.
const (
	dimCustomer = iota
	dimUser
	dimTeam
	dimFeature
	dimTagName  // a tag's name was cut or cleaned
	dimTagValue // a tag's value was cut or cleaned
	dimTags     // tags past max_tags were dropped
	numDims
)

var dimNames = [numDims]string{"customer", "user", "team", "feature", "tag_name", "tag_value", "tags"}

// canonical are the attributes the resolved dimensions are written to.
var canonical = [4]string{semconv.AttrAttributionCustomer, semconv.AttrAttributionUser,
	semconv.AttrAttributionTeam, semconv.AttrAttributionFeature}

// attributor resolves the dimensions of calls under one config.
type attributor struct {
	keys  [4][]string
	index map[string][]keyRef // attribute key → where it ranks in which dimensions
	// lens has bit n set when a key of n bytes (n < 64) is in index: most
	// attributes of a call (gen_ai.*, http.*) are ruled out by their length
	// without hashing them.
	lens     uint64
	prefixes []string
	maxValue int
	maxName  int
	maxTags  int
}

// keyRef says that a key is the rank-th key of dimension dim.
type keyRef struct{ dim, rank int }

func newAttributor(c *AttributionConfig) *attributor {
	a := &attributor{
		keys:     [4][]string{c.Customer, c.User, c.Team, c.Feature},
		index:    map[string][]keyRef{},
		prefixes: c.TagPrefixes,
		maxValue: c.MaxValueBytes, maxName: c.MaxTagNameBytes, maxTags: c.MaxTags,
	}
	for d, keys := range a.keys {
		for r, k := range keys {
			a.index[k] = append(a.index[k], keyRef{dim: d, rank: r})
			if len(k) < 64 {
				a.lens |= 1 << len(k)
			}
		}
	}
	return a
}

// scan is what one attribute map (a span's, a log record's or their
// resource's) says about attribution, read in one pass over it: lookups
// key by key cost a linear search each, and made the processor 20% slower
// for spans that carry no attribution at all.
type scan struct {
	vals     [4]string
	rank     [4]int // rank of the key vals[d] came from; -1: none yet
	tags     []rawTag
	stale    bool // the map holds canonical attributes (from an earlier pass)
	overflow bool // it had more tags than were kept
}

type rawTag struct {
	name  string // the key without its prefix, not yet cleaned
	value pcommon.Value
}

func (a *attributor) scan(m pcommon.Map) scan {
	s := scan{rank: [4]int{-1, -1, -1, -1}}
	for k, v := range m.All() {
		if len(k) >= 64 || a.lens&(1<<len(k)) != 0 {
			s.match(a.index[k], v)
		}
		// The canonical names are the processor's own output, never a
		// source, whatever prefix is configured.
		if strings.HasPrefix(k, semconv.AttrAttributionPrefix) {
			s.stale = true
			continue
		}
		if rest, ok := cutPrefix(k, a.prefixes); ok {
			if len(s.tags) == 4*a.maxTags {
				// Bounded work for a span with thousands of tags: the
				// first 4×max_tags by position are ranked by name later.
				s.overflow = true
				continue
			}
			s.tags = append(s.tags, rawTag{name: rest, value: v})
		}
	}
	return s
}

// match records v for the dimensions whose key it is, unless a key ranked
// before it already gave one a value.
func (s *scan) match(refs []keyRef, v pcommon.Value) {
	for _, ref := range refs {
		if s.rank[ref.dim] >= 0 && s.rank[ref.dim] < ref.rank {
			continue
		}
		if str := v.AsString(); str != "" {
			s.vals[ref.dim], s.rank[ref.dim] = str, ref.rank
		}
	}
}

type tag struct{ name, value string }

// apply resolves a call's dimensions from attrs (the span's or log
// record's) and res (the scan of its resource, done once per resource),
// and writes them on attrs under the canonical names; a dimension without
// a value has no canonical attribute (a stale one from an earlier pass
// goes). cut counts what was truncated, per dimension.
func (a *attributor) apply(attrs pcommon.Map, res *scan, cut *[numDims]int64) {
	own := a.scan(attrs)
	for d := range a.keys {
		v := own.vals[d]
		if v == "" {
			v = res.vals[d]
		}
		clean, changed := attribution.Clean(v, a.maxValue)
		if changed {
			cut[d]++
		}
		if clean != "" {
			attrs.PutStr(canonical[d], clean)
		} else if own.stale {
			attrs.Remove(canonical[d])
		}
	}
	tags := a.tags(&own, res, cut)
	if len(tags) == 0 {
		if own.stale {
			attrs.Remove(semconv.AttrAttributionTags)
		}
		return
	}
	m := attrs.PutEmptyMap(semconv.AttrAttributionTags)
	m.EnsureCapacity(len(tags))
	for _, t := range tags {
		m.PutStr(t.name, t.value)
	}
}

// tags cleans the tags of a call: the span's first, then the resource's
// under names the span did not set.
func (a *attributor) tags(own, res *scan, cut *[numDims]int64) []tag {
	n := len(own.tags) + len(res.tags)
	if n == 0 {
		return nil
	}
	out := make([]tag, 0, min(n, 4*a.maxTags))
	dropped := own.overflow || res.overflow
	for _, raw := range [2][]rawTag{own.tags, res.tags} {
		for _, t := range raw {
			name, changed := attribution.Clean(t.name, a.maxName)
			if changed {
				cut[dimTagName]++
			}
			if name == "" || slices.ContainsFunc(out, func(x tag) bool { return x.name == name }) {
				continue
			}
			if len(out) == 4*a.maxTags {
				dropped = true
				break
			}
			value, changed := attribution.Clean(t.value.AsString(), a.maxValue)
			if changed {
				cut[dimTagValue]++
			}
			if value != "" {
				out = append(out, tag{name: name, value: value})
			}
		}
	}
	if len(out) > a.maxTags {
		// Keep the same tags for the same call whatever order its
		// attributes came in.
		slices.SortFunc(out, func(x, y tag) int { return strings.Compare(x.name, y.name) })
		out, dropped = out[:a.maxTags], true
	}
	if dropped {
		cut[dimTags]++
	}
	return out
}

func cutPrefix(k string, prefixes []string) (string, bool) {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(k, p); ok {
			return rest, true
		}
	}
	return "", false
}
