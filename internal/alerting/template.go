package alerting

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"

	"github.com/nexus-otel/nexus/internal/notify"
)

// A rule's message template is written by any editor and run by the one
// evaluator on every event. text/template can loop a trillion times
// ({{range 1000000000000}}), recurse ({{define}} calling itself twice) or
// print gigabytes, and nothing can stop an Execute once it runs. So what a
// template may contain is restricted before it is accepted, and every run
// is bounded in output and time and happens in its own goroutine: an
// overrun gives the default message, never a stuck evaluator.

// templateRule is .Rule in a message template; printed alone it is the
// rule's name.
type templateRule struct {
	ID, Name, Kind, Severity string
}

func (r templateRule) String() string { return r.Name }

// templateData is what a rule's message template sees.
type templateData struct {
	Rule      templateRule
	State     string            // pending, firing, resolved or ok
	Value     string            // what was measured, in the kind's unit
	Threshold string            // what it was compared with
	Labels    map[string]string // the instance: provider, model, budget_id, …
	Instance  string            // the instance key
	Summary   string            // the default message
	Window    string            // the rule's window ("" when it has none)
	StartedAt time.Time         // when the condition was first seen
	At        time.Time         // when this event happened
	Link      string            // where to read the event ("" when not configured)
}

const (
	// renderTimeout bounds one run of a template. A template that passed
	// the guard runs in microseconds; this is the backstop.
	renderTimeout = time.Second
	// renderSlots bounds the runs in flight. A run past its deadline
	// cannot be stopped, only abandoned: with every slot held by such
	// runs, further ones get the default message at once rather than
	// piling up goroutines.
	renderSlots = 4
)

// templateFuncs are the built-in functions a message may call: each runs
// in time proportional to its arguments. call (any function value) is
// left out.
var templateFuncs = map[string]bool{
	"and": true, "or": true, "not": true, "len": true, "index": true, "slice": true,
	"eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true,
	"print": true, "printf": true, "println": true, "html": true, "js": true, "urlquery": true,
}

// guardTemplate refuses what could make a template run long: {{template}},
// {{define}} and {{block}} (recursion), {{range}} over anything but
// .Labels (a handful of entries) or nested in another range, and any
// function not in templateFuncs. Only the template's own text is judged,
// so a refusal is the same on every collector and at every load.
func guardTemplate(t *template.Template) error {
	if len(t.Templates()) > 1 {
		return errors.New("{{define}} and {{block}} are not allowed")
	}
	if t.Tree == nil {
		return nil
	}
	return guardNode(t.Tree.Root, 0)
}

func guardNode(n parse.Node, ranges int) error {
	switch n := n.(type) {
	case nil:
		return nil
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := guardNode(c, ranges); err != nil {
				return err
			}
		}
		return nil
	case *parse.TextNode, *parse.CommentNode, *parse.BreakNode, *parse.ContinueNode:
		return nil
	case *parse.ActionNode:
		return guardPipe(n.Pipe)
	case *parse.IfNode:
		return guardBranch(&n.BranchNode, ranges)
	case *parse.WithNode:
		return guardBranch(&n.BranchNode, ranges)
	case *parse.RangeNode:
		if ranges > 0 {
			return errors.New("{{range}} inside another {{range}} is not allowed")
		}
		if !overLabels(n.Pipe) {
			return fmt.Errorf("{{range}} may only go over .Labels, not %s", n.Pipe)
		}
		return guardBranch(&n.BranchNode, ranges+1)
	case *parse.TemplateNode:
		return errors.New("{{template}} and {{block}} are not allowed")
	}
	return fmt.Errorf("%s is not allowed", n)
}

func guardBranch(b *parse.BranchNode, ranges int) error {
	if err := guardPipe(b.Pipe); err != nil {
		return err
	}
	if err := guardNode(b.List, ranges); err != nil {
		return err
	}
	if b.ElseList != nil {
		return guardNode(b.ElseList, ranges)
	}
	return nil
}

func guardPipe(p *parse.PipeNode) error {
	if p == nil {
		return nil
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			if err := guardArg(arg); err != nil {
				return err
			}
		}
	}
	return nil
}

func guardArg(n parse.Node) error {
	switch n := n.(type) {
	case *parse.IdentifierNode:
		if !templateFuncs[n.Ident] {
			return fmt.Errorf("function %s is not allowed", n.Ident)
		}
		return nil
	case *parse.PipeNode:
		return guardPipe(n)
	case *parse.ChainNode:
		return guardArg(n.Node)
	case *parse.FieldNode, *parse.VariableNode, *parse.DotNode, *parse.NilNode,
		*parse.BoolNode, *parse.NumberNode, *parse.StringNode:
		return nil
	}
	return fmt.Errorf("%s is not allowed", n)
}

// overLabels tells whether a range's pipeline is exactly .Labels or
// $.Labels (with or without variables declared).
func overLabels(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		return len(a.Ident) == 1 && a.Ident[0] == "Labels"
	case *parse.VariableNode:
		return len(a.Ident) == 2 && a.Ident[0] == "$" && a.Ident[1] == "Labels"
	}
	return false
}

// errMessageFull stops a run once the message is as long as a message may
// be; what was written so far is the message.
var errMessageFull = errors.New("message full")

// errRenderTimeout is a run abandoned at its deadline.
var errRenderTimeout = errors.New("the message template did not finish within " + renderTimeout.String())

// errRenderBusy is a run not started: every slot is held by runs that
// overran.
var errRenderBusy = errors.New("too many message templates still running")

// capWriter keeps at most max bytes and then fails every write, which
// makes Execute return.
type capWriter struct {
	buf []byte
	max int
}

func (w *capWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.buf); len(p) > room {
		w.buf = append(w.buf, p[:room]...)
		return room, errMessageFull
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// renderer runs message templates bounded in output, time and number in
// flight. One belongs to each alerting instance.
type renderer struct {
	slots   chan struct{}
	timeout time.Duration
}

func newRenderer() *renderer {
	return &renderer{slots: make(chan struct{}, renderSlots), timeout: renderTimeout}
}

// run executes tmpl on data in its own goroutine, waiting at most the
// timeout (or until ctx ends). The output is cut at maxRuleMessage bytes,
// on a character boundary.
func (rr *renderer) run(ctx context.Context, tmpl *template.Template, data templateData) (string, error) {
	select {
	case rr.slots <- struct{}{}:
	default:
		return "", errRenderBusy
	}
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1) // the run may finish after nobody waits
	go func() {
		defer func() { <-rr.slots }()
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("message template panicked: %v", p)}
			}
		}()
		w := &capWriter{max: maxRuleMessage}
		err := tmpl.Execute(w, data)
		if errors.Is(err, errMessageFull) {
			err = nil
		}
		out := w.buf
		for len(out) > 0 && !utf8.Valid(out) {
			out = out[:len(out)-1] // a character cut at the limit
		}
		done <- result{out: string(out), err: err}
	}()
	timer := time.NewTimer(rr.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.out, r.err
	case <-timer.C:
		return "", errRenderTimeout
	case <-ctx.Done():
		return "", fmt.Errorf("message template: %w", ctx.Err())
	}
}

// sampleData is what a template is tried on when a rule is accepted.
func sampleData() templateData {
	return templateData{Rule: templateRule{ID: "alr_sample", Name: "sample", Kind: KindErrorRate, Severity: notify.SeverityWarning},
		State: notify.StateFiring, Value: "1", Threshold: "0.5", Labels: map[string]string{"provider": "openai"},
		Summary: "sample", StartedAt: time.Unix(0, 0).UTC(), At: time.Unix(60, 0).UTC()}
}

// compile parses a message template, refuses what guardTemplate refuses,
// and runs it once on sample data (bounded), so that a field that does
// not exist is refused at create time rather than at the first alert. A
// nil renderer makes its own.
func (rr *renderer) compile(text string) (*template.Template, error) {
	if rr == nil {
		rr = newRenderer()
	}
	tmpl, err := template.New("message").Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("invalid template: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
	if err := guardTemplate(tmpl); err != nil {
		return nil, fmt.Errorf("invalid template: %w", err)
	}
	// The trial is bounded by the renderer's own timeout; it is not cut
	// short by a caller's context, so that a refusal always means the
	// template, never a hung-up client.
	if _, err := rr.run(context.Background(), tmpl, sampleData()); err != nil {
		if errors.Is(err, errRenderTimeout) || errors.Is(err, errRenderBusy) {
			return nil, fmt.Errorf("invalid template: %w", err)
		}
		// "… in type alerting.templateData" names Go internals,
		// not anything the author wrote.
		msg := goTypeSuffix.ReplaceAllString(strings.TrimPrefix(err.Error(), "template: "), "")
		return nil, fmt.Errorf("invalid template: %s (fields: .Rule, .State, .Value, .Threshold, .Labels, .Instance, "+
			".Summary, .Window, .StartedAt, .At, .Link)", msg)
	}
	return tmpl, nil
}

var goTypeSuffix = regexp.MustCompile(` in type [\w.*\[\]]+`)
