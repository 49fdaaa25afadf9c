package providers

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/providers/apollo"
	"github.com/nexus-otel/nexus/internal/providers/exa"
	"github.com/nexus-otel/nexus/internal/providers/openai"
	"github.com/nexus-otel/nexus/internal/providers/openrouter"
	"github.com/nexus-otel/nexus/internal/providers/twilio"
)

// A tenant's stored credential for a provider is the part of the
// provider's block that reads its usage and billing: the rest of the block
// (endpoint, HTTP settings, interval) stays the installation's, so a
// tenant can never point Nexus's poller at a host of its choosing.

// CredentialFields returns the fields, by their keys in the provider's
// block, of the credential a tenant stores for provider: those its usage
// and billing polls need, every one required (the credentials store
// refuses a credential missing one). False for a provider Nexus does not
// know.
//
// They are the polling credentials only (OpenAI's admin key, not its
// inference key; Twilio's account SID and auth token, not the alternative
// API-key pair): a stored credential is one complete way in, not a menu.
func CredentialFields(provider string) ([]string, bool) {
	switch provider {
	case openai.Name:
		return []string{"admin_key"}, true // the Usage and Costs APIs take nothing else
	case openrouter.Name:
		return []string{"management_key"}, true // /credits and /activity (the bill), and /key
	case exa.Name:
		return []string{"service_key"}, true // per-key usage; an API key only checks health
	case twilio.Name:
		return []string{"account_sid", "auth_token"}, true
	case apollo.Name:
		return []string{"api_key"}, true // a master key
	}
	return nil, false
}

// WithCredentials returns a copy of p whose block for provider carries
// values (credential field key → value) in place of the block's own
// credentials: every secret of the block (each configopaque field, and
// each credential field) is cleared first, so that the copy never pairs a
// tenant's key with one of the config's (OpenAI's key check would
// otherwise run with the config's inference key). The values are decoded
// as a config file's would be. An unknown provider, a key that is not one
// of CredentialFields(provider), or a block the values leave invalid is a
// *domainerr.InvalidError naming it; p is never changed.
func (p Providers) WithCredentials(provider string, values map[string]string) (Providers, error) {
	fields, ok := CredentialFields(provider)
	if !ok {
		return Providers{}, domainerr.Invalid("invalid provider credentials",
			domainerr.Field{Field: "provider", Message: fmt.Sprintf("unknown provider %q", shorten(provider))})
	}
	var refused []domainerr.Field
	in := make(map[string]any, len(values))
	for _, k := range sortedKeys(values) {
		if !contains(fields, k) {
			if len(refused) == maxRefusedShown {
				refused = append(refused, domainerr.Field{Field: "values", Message: "more fields that are not credential fields"})
			}
			if len(refused) > maxRefusedShown {
				continue
			}
			refused = append(refused, domainerr.Field{Field: shorten(k),
				Message: fmt.Sprintf("not a credential field of %s (it takes %s)", provider, strings.Join(fields, ", "))})
			continue
		}
		in[k] = values[k]
	}
	if err := domainerr.Invalid("invalid provider credentials", refused...); err != nil {
		return Providers{}, err
	}
	// p is a copy: its blocks are values, and only string fields are
	// written below, so the maps and slices it shares with the caller's
	// (headers, usage types) are never touched.
	b := p.block(provider)
	clearSecrets(reflect.ValueOf(b).Elem(), fields)
	if err := confmap.NewFromStringMap(in).Unmarshal(b); err != nil {
		return Providers{}, fmt.Errorf("decode the %s credentials: %w", provider, err)
	}
	var invalid []domainerr.Field
	for _, err := range b.ValidateBlock(provider + ".") {
		invalid = append(invalid, domainerr.Field{Field: provider, Message: err.Error()})
	}
	if err := domainerr.Invalid("invalid provider credentials", invalid...); err != nil {
		return Providers{}, err
	}
	return p, nil
}

// maxRefusedShown bounds the fields an error names.
const maxRefusedShown = 16

var opaqueType = reflect.TypeFor[configopaque.String]()

// clearSecrets zeroes, in the block struct v, every configopaque field and
// every string field whose key is in fields. Squashed structs (the common
// HTTP settings) are not entered: what they hold is the installation's.
func clearSecrets(v reflect.Value, fields []string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if f.Type == opaqueType || (f.Type.Kind() == reflect.String && contains(fields, key)) {
			v.Field(i).SetString("")
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// shorten bounds a name an error quotes: it may come from a request.
func shorten(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
