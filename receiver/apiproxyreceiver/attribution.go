package apiproxyreceiver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"golang.org/x/net/http/httpguts"

	"github.com/nexus-otel/nexus/internal/attribution"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// AttributionHeaders name the request headers a calling app says who a call
// is for in: its customer, end user, team and feature, and free-form tags
// (X-Nexus-Tag-Env: prod is the tag env). Like ServiceNameHeader, each is
// removed before the call is forwarded, so the provider never sees them;
// an empty name turns that header off (and then it is forwarded like any
// other). Values go on the span under the attribution source attributes
// (nexus.customer, nexus.tag.<name>, …), where the cost processor reads,
// bounds and counts them.
type AttributionHeaders struct {
	Customer string `mapstructure:"customer"`
	User     string `mapstructure:"user"`
	Team     string `mapstructure:"team"`
	Feature  string `mapstructure:"feature"`
	// TagPrefix starts the name of every tag header; the tag's name is the
	// rest, lower-cased (header names are case-insensitive).
	TagPrefix string `mapstructure:"tag_prefix"`
}

func defaultAttributionHeaders() AttributionHeaders {
	return AttributionHeaders{Customer: "X-Nexus-Customer", User: "X-Nexus-User", Team: "X-Nexus-Team",
		Feature: "X-Nexus-Feature", TagPrefix: "X-Nexus-Tag-"}
}

// validate checks that each header is a valid header name (unexported, so
// that the collector does not report its errors a second time).
func (h *AttributionHeaders) validate() error {
	var errs []error
	for _, f := range []struct{ key, v string }{{"customer", h.Customer}, {"user", h.User}, {"team", h.Team},
		{"feature", h.Feature}, {"tag_prefix", h.TagPrefix}} {
		if f.v != "" && !httpguts.ValidHeaderFieldName(f.v) {
			errs = append(errs, fmt.Errorf("attribution_headers.%s: %q is not a valid header name", f.key, f.v))
		}
	}
	return errors.Join(errs...)
}

// whoHeaders is AttributionHeaders in canonical form, ready for lookups.
type whoHeaders struct {
	dims      [4]string // customer, user, team, feature
	tagPrefix string
}

var whoSources = [4]string{semconv.AttrCustomer, semconv.AttrUser, semconv.AttrTeam, semconv.AttrFeature}

func newWhoHeaders(h AttributionHeaders) whoHeaders {
	w := whoHeaders{tagPrefix: http.CanonicalHeaderKey(h.TagPrefix)}
	for i, name := range [4]string{h.Customer, h.User, h.Team, h.Feature} {
		if name != "" {
			w.dims[i] = http.CanonicalHeaderKey(name)
		}
	}
	return w
}

// who is what a request said about whom it is for.
type who struct {
	dims [4]string
	tags []tag
}

type tag struct{ name, value string }

// take reads the attribution headers of h and removes them, every one of
// them, whatever is kept, so that none reaches the provider. Values are
// cleaned to valid UTF-8 and cut at the ceilings only, and at most
// CeilingTags tags are kept: the cost processor applies the configured
// limits and counts what it cuts, and a span never carries an unbounded
// value meanwhile.
func (w *whoHeaders) take(h http.Header) who {
	var out who
	for i, name := range w.dims {
		if name == "" {
			continue
		}
		if vs := h[name]; len(vs) > 0 {
			out.dims[i], _ = attribution.Clean(vs[0], attribution.CeilingValueBytes)
			delete(h, name)
		}
	}
	if p := w.tagPrefix; p != "" {
		for k, vs := range h {
			if len(k) < len(p) || !strings.EqualFold(k[:len(p)], p) {
				continue
			}
			delete(h, k)
			if len(out.tags) == attribution.CeilingTags || len(vs) == 0 {
				continue
			}
			name, _ := attribution.Clean(strings.ToLower(k[len(p):]), attribution.CeilingTagNameBytes)
			value, _ := attribution.Clean(vs[0], attribution.CeilingValueBytes)
			if name != "" && value != "" {
				out.tags = append(out.tags, tag{name: name, value: value})
			}
		}
	}
	return out
}

// put writes what the request said on the span's attributes.
func (o *who) put(attrs pcommon.Map) {
	for i, v := range o.dims {
		if v != "" {
			attrs.PutStr(whoSources[i], v)
		}
	}
	for _, t := range o.tags {
		attrs.PutStr(semconv.AttrTagPrefix+t.name, t.value)
	}
}
