package exa

import (
	"encoding/json"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// response reads what Exa's answers state: the cost of every call
// (costDollars.total, the only part of costDollars to trust) and how many
// results or pages came back.
type response struct {
	cost    string // exact decimal, "" when not stated
	results int64  // -1: unknown
}

func newResponse() provider.ResponseReader { return &response{results: -1} }

type costDoc struct {
	Total json.RawMessage `json:"total"`
}

type responseDoc struct {
	CostDollars *costDoc    `json:"costDollars"`
	Results     *[]struct{} `json:"results"`
}

func (r *response) Read(doc []byte) {
	var d responseDoc
	if err := json.Unmarshal(doc, &d); err != nil && !provider.IsTypeError(err) {
		return
	}
	r.readCost(d.CostDollars)
	if d.Results != nil {
		r.results = int64(len(*d.Results))
	}
}

// ReadPartial reads costDollars, which Exa puts at the end of a large
// body, from the tail, else the head.
func (r *response) ReadPartial(head, tail []byte) {
	var c *costDoc
	if !provider.ValueAfter(tail, `"costDollars"`, true, &c) {
		provider.ValueAfter(head, `"costDollars"`, true, &c)
	}
	r.readCost(c)
}

func (r *response) readCost(c *costDoc) {
	if c == nil {
		return
	}
	if s, ok := provider.DecimalText(c.Total); ok {
		r.cost = s
	}
}

func (r *response) Parsed() bool { return r.cost != "" }

// Annotate: /contents returns pages, the other endpoints results.
func (r *response) Annotate(operation string, attrs pcommon.Map) {
	if r.cost != "" {
		attrs.PutStr(semconv.AttrExaCost, r.cost)
	}
	if r.results >= 0 {
		if operation == "contents" {
			attrs.PutInt(semconv.AttrExaPages, r.results)
		} else {
			attrs.PutInt(semconv.AttrExaResults, r.results)
		}
	}
}
