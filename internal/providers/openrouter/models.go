package openrouter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// OpenRouter lists a few hundred models: these bounds only stop a broken or
// hostile answer from taking the collector's memory. maxModelsBody is the
// bound the provider client puts on every answer.
const (
	maxModelsBody = 32 << 20
	maxModels     = 20_000
	maxModelIDLen = 256
)

const modelsPath = "/models"

// ModelPrices is the outcome of one fetch of the models list.
type ModelPrices struct {
	// Entries are the models' price lists, provider "openrouter", Model the
	// id lowercased, in the list's order. Effective is left "" for the
	// caller, who knows from when the prices hold.
	Entries []pricing.Entry
	// Skipped are the models left out, each with why.
	Skipped []SkippedModel
}

// SkippedModel is a model left out of ModelPrices.Entries. Model is its id
// lowercased, or "" when the id itself is the problem (the Reason then
// names the model's position in the list).
type SkippedModel struct{ Model, Reason string }

// FetchModelPrices reads the per-token prices of every model from
// GET {baseURL}/models, which needs no key. A nil client means a default
// one and "" the public API; the time allowed comes from ctx.
//
// Any failure of the list as a whole (status other than 200, a body over
// 32 MiB or that is not the documented JSON, more than 20,000 models) is an
// error, a *provider.Error, and the caller keeps its last good prices; a
// model that cannot be priced is only Skipped.
func FetchModelPrices(ctx context.Context, client *http.Client, baseURL string) (ModelPrices, error) {
	if baseURL == "" {
		baseURL = BaseURL
	}
	if client == nil {
		client = &http.Client{}
	}
	c := &provider.Client{Provider: Name, BaseURL: strings.TrimRight(baseURL, "/"), HTTP: client}
	var ans modelsAnswer
	resp, err := c.Do(ctx, http.MethodGet, modelsPath, nil, nil, &ans)
	if err != nil {
		return ModelPrices{}, err
	}
	if resp.Status != http.StatusOK || !ans.parsed {
		msg := "no models list in answer"
		if resp.Status != http.StatusOK {
			msg = fmt.Sprintf("unexpected status %d", resp.Status)
		}
		return ModelPrices{}, &provider.Error{Provider: Name, Op: http.MethodGet + " " + modelsPath, Status: resp.Status,
			Class: provider.ClassBadResponse, Message: msg}
	}
	return ans.prices, nil
}

// modelsAnswer lets the provider client, which bounds and classifies the
// call, hand the body to ParseModelPrices.
type modelsAnswer struct {
	prices ModelPrices
	parsed bool
}

func (a *modelsAnswer) UnmarshalJSON(b []byte) error {
	p, err := ParseModelPrices(bytes.NewReader(b))
	if err != nil {
		return err
	}
	a.prices, a.parsed = p, true
	return nil
}

var errModelsTooLarge = fmt.Errorf("larger than %d bytes", maxModelsBody)

// ParseModelPrices reads a models list, {"data":[{"id":…,"pricing":{…}},…]}.
// The list is an error when it is not that JSON, is larger than 32 MiB or
// holds more than 20,000 models; a model that cannot be priced is Skipped.
//
// Prices are USD per token (per request for request) as decimal strings;
// token prices become the catalog's per 1,000,000 tokens by an exact decimal
// shift. A price sent as a JSON number is read from its text, just as
// exactly. "-1" means a variable price: the model is skipped.
func ParseModelPrices(r io.Reader) (ModelPrices, error) {
	p, err := parseModels(r)
	if err != nil {
		return ModelPrices{}, fmt.Errorf("models list: %w", err)
	}
	return p, nil
}

func parseModels(r io.Reader) (ModelPrices, error) {
	dec := json.NewDecoder(&boundedReader{r: r, left: maxModelsBody + 1})
	tok, err := dec.Token()
	if err != nil {
		return ModelPrices{}, err
	}
	if tok != json.Delim('{') {
		return ModelPrices{}, fmt.Errorf("answer is %s, not a JSON object", describeToken(tok))
	}
	p := modelsParser{seen: make(map[string]int)}
	sawData := false
	for dec.More() {
		if tok, err = dec.Token(); err != nil {
			return ModelPrices{}, err
		}
		if tok != "data" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return ModelPrices{}, err
			}
			continue
		}
		if sawData {
			return ModelPrices{}, errors.New("two data members")
		}
		sawData = true
		if err := p.readData(dec); err != nil {
			return ModelPrices{}, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing }
		return ModelPrices{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("data after the answer")
		}
		return ModelPrices{}, err
	}
	if !sawData {
		return ModelPrices{}, errors.New("no data array")
	}
	return p.out, nil
}

// boundedReader fails once more than left-1 bytes are read: a list cut at
// the bound would otherwise read as a truncated JSON error, which hides
// what happened.
type boundedReader struct {
	r    io.Reader
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errModelsTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left <= 0 {
		return n, errModelsTooLarge
	}
	return n, err
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "not JSON"
}

type modelsParser struct {
	out  ModelPrices
	seen map[string]int // lowercased id → position of its first model
}

// readData reads the data array one model at a time, so that a list of
// many tiny models is refused at the bound instead of held in memory.
func (p *modelsParser) readData(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("data is %s, not an array", describeToken(tok))
	}
	for i := 0; dec.More(); i++ {
		if i >= maxModels {
			return fmt.Errorf("more than %d models", maxModels)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		p.add(i, raw)
	}
	_, err = dec.Token() // the closing ]
	return err
}

func (p *modelsParser) skip(model, reason string) {
	p.out.Skipped = append(p.out.Skipped, SkippedModel{Model: model, Reason: reason})
}

// add prices the i-th model of the list, or says why it is skipped.
func (p *modelsParser) add(i int, raw json.RawMessage) {
	var m struct {
		ID      json.RawMessage `json:"id"`
		Pricing json.RawMessage `json:"pricing"`
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		p.skip("", fmt.Sprintf("data[%d] is not an object", i))
		return
	}
	var id string
	if isNull(m.ID) {
		p.skip("", fmt.Sprintf("data[%d] has no id", i))
		return
	}
	if json.Unmarshal(m.ID, &id) != nil {
		p.skip("", fmt.Sprintf("data[%d]: id is not a string", i))
		return
	}
	if id == "" {
		p.skip("", fmt.Sprintf("data[%d] has no id", i))
		return
	}
	if why := badModelID(id); why != "" {
		p.skip("", fmt.Sprintf("data[%d]: id %s %s", i, quoteClip(id), why))
		return
	}
	key := asciiLower(id)
	if first, dup := p.seen[key]; dup {
		p.skip(key, fmt.Sprintf("duplicate id: data[%d], the first with it, is the one used", first))
		return
	}
	p.seen[key] = i
	prices, why := modelPrices(m.Pricing)
	if why != "" {
		p.skip(key, why)
		return
	}
	p.out.Entries = append(p.out.Entries, pricing.Entry{Provider: Name, Model: key, Prices: prices})
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// badModelID says what makes id unfit for a catalog key, a metric label
// and a log line, "" when nothing does.
func badModelID(id string) string {
	if len(id) > maxModelIDLen {
		return fmt.Sprintf("is %d bytes long, over %d", len(id), maxModelIDLen)
	}
	for _, r := range id {
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsGraphic(r) {
			return "holds a space, control or invalid character"
		}
	}
	return ""
}

// quoteClip quotes the start of an id that is being refused, so that the
// reason stays one short, printable line.
func quoteClip(s string) string {
	const keep = 48
	if len(s) <= keep {
		return strconv.QuoteToASCII(s)
	}
	return strconv.QuoteToASCII(s[:keep]) + "…"
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

type priceField struct {
	field        string
	unit         pricing.Unit
	required     bool
	positiveOnly bool
}

// modelPriceUnits map the pricing fields the catalog has a unit for.
// internal_reasoning "0" means reasoning is billed as output (the catalog's
// rule when a list has no reasoning price), and request "0" means no fee:
// both are left out then.
var modelPriceUnits = []priceField{
	{"prompt", pricing.InputTokens, true, false},
	{"completion", pricing.OutputTokens, true, false},
	{"input_cache_read", pricing.CachedInputTokens, false, false},
	{"input_cache_write", pricing.CacheWriteTokens, false, false},
	{"internal_reasoning", pricing.ReasoningTokens, false, true},
	{"request", pricing.Requests, false, true},
}

// modelPrices turns a model's pricing object into catalog prices, or says
// why the model cannot be priced.
func modelPrices(raw json.RawMessage) (map[string]string, string) {
	if isNull(raw) {
		return nil, "no pricing"
	}
	var fields map[string]json.RawMessage
	if raw = bytes.TrimSpace(raw); raw[0] != '{' || json.Unmarshal(raw, &fields) != nil {
		return nil, "pricing is not an object"
	}
	prices := make(map[string]string, len(modelPriceUnits))
	charged := false // a catalog unit has a non-zero price
	for _, f := range modelPriceUnits {
		v, ok := fields[f.field]
		if !ok || isNull(v) {
			if f.required {
				return nil, "no " + f.field + " price"
			}
			continue
		}
		text, ok := scalarText(v)
		if !ok {
			return nil, f.field + " price is not a string"
		}
		m, err := readPrice(text, f.unit.PerMillion())
		if errors.Is(err, errVariablePrice) {
			return nil, "variable price (" + f.field + " is -1)"
		}
		if err != nil {
			return nil, f.field + " price " + err.Error()
		}
		if m == 0 && f.positiveOnly {
			continue
		}
		charged = charged || m != 0
		prices[f.unit.String()] = m.Decimal().String()
	}
	if !charged {
		// A model billed only in units the catalog cannot price (image,
		// web_search, …) would pass for free: better unpriced.
		if other := unpricedCharges(fields); len(other) > 0 {
			return nil, "only " + strings.Join(other, ", ") + " priced, which the catalog has no unit for"
		}
	}
	return prices, ""
}

// unpricedCharges are the fields, other than the mapped ones, whose value
// is not zero; one that cannot be read counts, as it may be a charge.
// discount is a rate, not a charge.
func unpricedCharges(fields map[string]json.RawMessage) []string {
	var out []string
	for name, v := range fields {
		mapped := slices.ContainsFunc(modelPriceUnits, func(f priceField) bool { return f.field == name })
		if mapped || name == "discount" {
			continue
		}
		if isNull(v) {
			continue
		}
		if text, ok := scalarText(v); ok {
			if m, err := pricing.ParseMoneyRound(text); err == nil && m == 0 {
				continue
			}
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// scalarText is a JSON string's content or a number's text.
func scalarText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err == nil
	}
	if raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9' {
		return string(raw), true
	}
	return "", false
}

var errVariablePrice = errors.New("variable price")

// readPrice reads a price, per token for token units and converted to per
// 1,000,000 tokens by moving the decimal point: no float, no rounding. The
// result must be a catalog price: non-negative, at most pico-USD fine and
// no larger than pricing.MaxCost.
func readPrice(text string, perToken bool) (pricing.Money, error) {
	s := strings.TrimSpace(text)
	if m, err := pricing.ParseMoney(s); err == nil && m == -pricing.USD {
		return 0, errVariablePrice
	}
	scaled := s
	if perToken {
		var ok bool
		if scaled, ok = shiftPoint(s, 6); !ok {
			return 0, fmt.Errorf("%q is not a decimal amount", text)
		}
	}
	m, err := pricing.ParseMoney(scaled)
	switch {
	case errors.Is(err, pricing.ErrPrecision) && perToken:
		return 0, fmt.Errorf("%q is finer than the catalog's pico-USD per 1,000,000 tokens", text)
	case errors.Is(err, pricing.ErrPrecision):
		return 0, fmt.Errorf("%q is finer than the catalog's pico-USD", text)
	case errors.Is(err, pricing.ErrRange):
		return 0, fmt.Errorf("%q is out of range", text)
	case err != nil:
		return 0, fmt.Errorf("%q is not a decimal amount", text)
	case m < 0:
		return 0, fmt.Errorf("%q is negative", text)
	case m > pricing.MaxCost:
		return 0, fmt.Errorf("%q is over the catalog's maximum of %s USD", text, pricing.MaxCost)
	}
	return m, nil
}

// shiftPoint multiplies the decimal s by 10^n by raising its exponent, so
// that pricing.ParseMoney reads the product exactly. ok is false when s's
// own exponent is not a small integer.
func shiftPoint(s string, n int) (string, bool) {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return s + "e" + strconv.Itoa(n), true
	}
	exp := s[i+1:]
	if len(exp) > 6 {
		return "", false
	}
	e, err := strconv.Atoi(exp)
	if err != nil {
		return "", false
	}
	return s[:i] + "e" + strconv.Itoa(e+n), true
}
