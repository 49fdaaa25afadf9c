package pricing

// Model is what a model name resolves to in the catalog. It is the one
// resolution Nexus has: Price prices calls with it, and the insights group
// and compare models with it, so that a call recorded under a dated snapshot
// (gpt-4o-2024-08-06), a vendor prefix (openai/gpt-4o) or a fine-tune name
// is the same model to both.
type Model struct {
	// Name is the model's canonical name for the provider it was called
	// on, lowercase: the key of the price list that prices it (gpt-4o for
	// gpt-4o-2024-08-06 and for OpenAI's openai/gpt-4o; ft:gpt-4o-mini for
	// ft:gpt-4o-mini-2024-07-18:org::abc; gpt-4o-2024-05-13, which has a
	// list of its own), with OpenRouter's vendor/ prefix and :variant kept
	// (openai/gpt-4o:nitro for openai/gpt-4o-2024-08-06:nitro). When no list
	// prices it, it is the name itself, trimmed and lowercased.
	Name string
	// Family is Name without a snapshot date, an OpenRouter :variant or
	// OpenAI's gateway prefix: what a pinned snapshot is a version of
	// (gpt-4o for gpt-4o-2024-05-13). A fine-tune is its own family.
	Family string
	// Priced says a price list matches the name; Provider and Key name it
	// (openai and gpt-4o for OpenRouter's openai/gpt-4o). The list may still
	// have no price in effect at a given time.
	Priced        bool
	Provider, Key string
}

// ResolveModel resolves a model called on provider (openai, openrouter)
// exactly as Price does. Other providers' calls are priced per operation:
// their names resolve to themselves, lowercased.
func (c *Catalog) ResolveModel(prov, model string) Model {
	name := asciiLower(trimSpace(model))
	m := Model{Name: name, Family: name}
	pi, ok := c.providerIndex(prov)
	if !ok || !c.schemes[pi].byModel() || name == "" {
		return m
	}
	s, pricedAs, variant, _ := c.resolveModel(pi, []byte(name))
	if s != nil {
		m.Priced, m.Provider, m.Key = true, c.schemes[pricedAs].Name, s.key
		m.Name = s.key
		if pricedAs != pi {
			// An OpenRouter vendor/model priced from the vendor's own list:
			// the name stays OpenRouter's, which is what was called.
			m.Name = c.schemes[pricedAs].Name + "/" + s.key
			if len(variant) > 0 {
				m.Name += ":" + string(variant)
			}
		}
	}
	m.Family = string(c.family(pi, []byte(m.Name)))
	return m
}

// family strips from a resolved name what does not make another model: a
// gateway's :variant, or the provider's own name as a vendor prefix.
func (c *Catalog) family(pi provIdx, b []byte) []byte {
	if c.schemes[pi].vendorNames() {
		if base, _, slash := splitVariant(b); slash > 0 {
			b = base
		}
	} else {
		b = cutVendor(b, c.schemes[pi].Name)
	}
	b, _ = stripDated(b)
	return b
}

// resolveModel finds the series that prices model name (lowercase) of
// provider pi: its own lists (OpenAI), or a gateway's then the vendor's
// (OpenRouter). pricedAs is the provider whose list it is; variant is the
// gateway's :variant dropped to reach the vendor's list; free says a :free
// variant found no list of its own (it never falls back to a paid price).
func (c *Catalog) resolveModel(pi provIdx, name []byte) (s *series, pricedAs provIdx, variant []byte, free bool) {
	if !c.schemes[pi].vendorNames() {
		return c.resolveOwn(pi, name), pi, nil, false
	}
	return c.resolveVendor(pi, name)
}

// resolveOwn resolves a name of provider pi's own API.
func (c *Catalog) resolveOwn(pi provIdx, name []byte) *series {
	t := c.tables[pi].byKey
	if s := t[string(name)]; s != nil {
		return s
	}
	if rest := cutVendor(name, c.schemes[pi].Name); len(rest) < len(name) { // gateways' vendor/model
		name = rest
		if s := t[string(name)]; s != nil {
			return s
		}
	}
	if d, ok := stripDated(name); ok {
		if s := t[string(d)]; s != nil {
			return s
		}
	}
	// Fine-tuned models: ft:<base>:<org>:<suffix>:<id>, priced by an entry
	// for the full name, else for ft:<base>, else ft:<base without date>.
	if rest, ok := cutPrefix(name, "ft:"); ok {
		end := len(name)
		for i := range rest {
			if rest[i] == ':' {
				end = 3 + i
				break
			}
		}
		base := name[:end]
		if s := t[string(base)]; s != nil {
			return s
		}
		if d, ok := stripDated(base); ok {
			if s := t[string(d)]; s != nil {
				return s
			}
		}
	}
	return nil
}

// splitVariant splits vendor/model:variant at the last colon after the
// slash; slash is the slash's index (-1: none, and no variant).
func splitVariant(name []byte) (base, variant []byte, slash int) {
	slash = -1
	for i := range name {
		if name[i] == '/' {
			slash = i
			break
		}
	}
	base = name
	for i := len(name) - 1; i > slash; i-- {
		if name[i] == ':' {
			return name[:i], name[i+1:], slash
		}
	}
	return base, nil, slash
}

// resolveVendor looks name up in gateway pi's lists, then, for
// vendor/model[:variant] names whose vendor is a provider with its own model
// lists (openai), in the vendor's lists without the variant. A :free variant
// never falls back to the vendor's paid price.
func (c *Catalog) resolveVendor(pi provIdx, name []byte) (s *series, pricedAs provIdx, variant []byte, free bool) {
	t := c.tables[pi].byKey
	if s := t[string(name)]; s != nil {
		return s, pi, nil, false
	}
	base, variant, slash := splitVariant(name)
	if variant == nil {
		if d, ok := stripDated(name); ok {
			if s := t[string(d)]; s != nil {
				return s, pi, nil, false
			}
		}
	}
	if slash <= 0 {
		return nil, pi, nil, false
	}
	if string(variant) == "free" {
		return nil, pi, nil, true
	}
	vendor := base[:slash]
	for vi := range c.schemes {
		v := &c.schemes[vi]
		if string(vendor) == v.Name && v.byModel() && !v.vendorNames() {
			if s := c.resolveOwn(provIdx(vi), base[slash+1:]); s != nil {
				return s, provIdx(vi), variant, false
			}
		}
	}
	return nil, pi, nil, false
}

// stripDated removes a snapshot date from a model name: -YYYY-MM-DD
// (gpt-4o-2024-08-06), -YYYYMMDD (claude-3-5-sonnet-20241022) or -MMDD
// (gpt-4-0613). Month and day must be plausible, so that model names that
// merely end in digits are left alone.
func stripDated(b []byte) ([]byte, bool) {
	n := len(b)
	if n > 11 && b[n-11] == '-' && b[n-6] == '-' && b[n-3] == '-' &&
		digits(b[n-10:n-6]) && b[n-10] == '2' && monthDay(b[n-5:n-3], b[n-2:]) {
		return b[:n-11], true
	}
	if n > 9 && b[n-9] == '-' && digits(b[n-8:]) && b[n-8] == '2' && monthDay(b[n-4:n-2], b[n-2:]) {
		return b[:n-9], true
	}
	if n > 5 && b[n-5] == '-' && digits(b[n-4:]) && monthDay(b[n-4:n-2], b[n-2:]) {
		return b[:n-5], true
	}
	return b, false
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func monthDay(m, d []byte) bool {
	if !digits(m) || !digits(d) {
		return false
	}
	mm := int(m[0]-'0')*10 + int(m[1]-'0')
	dd := int(d[0]-'0')*10 + int(d[1]-'0')
	return mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31
}

// cutVendor drops a name/ prefix from b (no allocation).
func cutVendor(b []byte, name string) []byte {
	if len(b) > len(name) && b[len(name)] == '/' && string(b[:len(name)]) == name {
		return b[len(name)+1:]
	}
	return b
}
