package alerting

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/notify"
)

// Config configures alert rules, their evaluation and where
// notifications go.
type Config struct {
	// Evaluate makes this collector evaluate the rules and send the
	// notifications. With several collectors behind a load balancer,
	// exactly one should: the others still serve the rules and events.
	Evaluate bool `mapstructure:"evaluate"`
	// Interval is how often every rule is evaluated.
	Interval time.Duration `mapstructure:"interval"`
	// RenotifyInterval is how often a still-firing alert is announced
	// again; 0 announces it once.
	RenotifyInterval time.Duration `mapstructure:"renotify_interval"`
	// LinkBaseURL, when set, makes each notification link to its event:
	// the URL with {event_id} replaced, or, without the placeholder, the
	// URL followed by /api/v1/alerts/events/<id>.
	LinkBaseURL string `mapstructure:"link_base_url"`
	// Channels are the named notification channels rules refer to. The
	// name "inapp" needs no entry: every event is stored and streamed.
	Channels map[string]notify.ChannelConfig `mapstructure:"channels"`
	// Rules are declared here rather than through the API; the API shows
	// them but refuses to change them.
	Rules []RuleConfig `mapstructure:"rules"`
	// MaxInstancesPerRule bounds the instances one rule alerts on one by
	// one; the excess is one "overflow" instance (cap.go).
	MaxInstancesPerRule int `mapstructure:"max_instances_per_rule"`
}

// RuleConfig is one rule in the collector config; the fields are the
// API's (see the README), in snake_case.
type RuleConfig struct {
	ID        string        `mapstructure:"id"`
	Name      string        `mapstructure:"name"`
	Kind      string        `mapstructure:"kind"`
	Scope     RuleScope     `mapstructure:"scope"`
	GroupBy   []string      `mapstructure:"group_by"`
	Threshold *float64      `mapstructure:"threshold"`
	Window    time.Duration `mapstructure:"window"`
	For       time.Duration `mapstructure:"for"`
	Severity  string        `mapstructure:"severity"`
	Channels  []string      `mapstructure:"channels"`
	Message   string        `mapstructure:"message"`
	Enabled   *bool         `mapstructure:"enabled"`
	BudgetID  string        `mapstructure:"budget_id"`
	MinCalls  *int          `mapstructure:"min_calls"`
	Source    string        `mapstructure:"source"`
	Mode      string        `mapstructure:"mode"`
}

// RuleScope narrows a rule; empty fields match anything.
type RuleScope struct {
	Provider    string `mapstructure:"provider"`
	Model       string `mapstructure:"model"`
	Operation   string `mapstructure:"operation"`
	Service     string `mapstructure:"service"`
	Environment string `mapstructure:"environment"`
	Team        string `mapstructure:"team"`
	Feature     string `mapstructure:"feature"`
	Customer    string `mapstructure:"customer"`
	User        string `mapstructure:"user"`
	// Tag, when its key is set, is the one tag the calls must carry.
	Tag RuleTag `mapstructure:"tag"`
}

// RuleTag is a tag of a config rule's scope.
type RuleTag struct {
	Key   string `mapstructure:"key"`
	Value string `mapstructure:"value"`
}

const (
	defaultAlertInterval    = 10 * time.Second
	defaultRenotifyInterval = 4 * time.Hour
	minAlertInterval        = time.Second
	defaultMaxInstances     = 50
)

// NewDefaultConfig is the alerting block of a config that leaves it out:
// this collector evaluates.
func NewDefaultConfig() Config {
	return Config{Evaluate: true, Interval: defaultAlertInterval, RenotifyInterval: defaultRenotifyInterval,
		Channels: map[string]notify.ChannelConfig{}, MaxInstancesPerRule: defaultMaxInstances}
}

// channelNames are the names a rule may list: the configured channels and
// inapp.
func (c *Config) channelNames() map[string]bool {
	out := map[string]bool{InAppChannel: true}
	for name := range c.Channels {
		out[name] = true
	}
	return out
}

// ValidateUnder checks the alerting block; each error names its key below
// prefix. The channel blocks are not checked here: confmap calls their
// own Validate (under their path) and would report every error twice.
// Not called Validate for the same reason.
func (c *Config) ValidateUnder(prefix string) error {
	var errs []error
	if c.Interval < minAlertInterval {
		errs = append(errs, fmt.Errorf("%sinterval: must be at least 1s", prefix))
	}
	if c.RenotifyInterval < 0 {
		errs = append(errs, fmt.Errorf("%srenotify_interval: must not be negative (0 announces a firing alert once)", prefix))
	} else if c.RenotifyInterval > 0 && c.RenotifyInterval < c.Interval {
		errs = append(errs, fmt.Errorf("%srenotify_interval: shorter than interval; it cannot be honoured", prefix))
	}
	if c.MaxInstancesPerRule < 1 {
		errs = append(errs, fmt.Errorf("%smax_instances_per_rule: must be at least 1", prefix))
	}
	if c.LinkBaseURL != "" {
		if u, err := url.Parse(c.LinkBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%slink_base_url: must be an http(s) URL", prefix))
		}
	}
	for _, name := range sortedKeys(c.channelNames()) {
		switch ch, ok := c.Channels[name]; {
		case !ok:
		case name == "" || !validText(name, 64):
			errs = append(errs, fmt.Errorf("%schannels: channel names must be 1 to 64 printable characters", prefix))
		case name == InAppChannel && ch.Type != notify.TypeInApp:
			// Rules listing inapp mean the stored, streamed event.
			errs = append(errs, fmt.Errorf("%schannels.%s: the name %s is the in-app channel; its type can only be %s", prefix, name, name, notify.TypeInApp))
		}
	}
	_, err := c.BuildRules(prefix)
	return errors.Join(append(errs, err)...)
}

// BuildRules validates the config rules and returns them compiled; errors
// name each key below prefix ("alerting.rules[2].channels: …").
func (c *Config) BuildRules(prefix string) ([]*Rule, error) {
	var errs []error
	chk := checker{channels: c.channelNames(), render: newRenderer()}
	seen := map[string]int{}
	out := make([]*Rule, 0, len(c.Rules))
	for i, rc := range c.Rules {
		at := prefix + "rules[" + strconv.Itoa(i) + "]."
		switch {
		case rc.ID == "":
			errs = append(errs, fmt.Errorf("%sid: required: a stable id (letters, digits, _ . -), which events refer to", at))
		case !configRuleID.MatchString(rc.ID):
			errs = append(errs, fmt.Errorf("%sid: 1 to 64 letters, digits, _ . or -, starting with a letter or digit", at))
		case strings.HasPrefix(rc.ID, "alr_"):
			errs = append(errs, fmt.Errorf("%sid: the prefix alr_ is reserved for rules created through the API", at))
		default:
			if j, dup := seen[rc.ID]; dup {
				errs = append(errs, fmt.Errorf("%sid: %q is also the id of %srules[%d]", at, rc.ID, prefix, j))
			}
			seen[rc.ID] = i
		}
		d := rc.draft()
		// Without a SpendReader nothing is looked up: no context waits.
		details, err := chk.check(context.Background(), d)
		if err != nil {
			return nil, err
		}
		for _, fe := range details {
			errs = append(errs, fmt.Errorf("%s%s: %s", at, configField(fe.Field), fe.Message))
		}
		out = append(out, &d.Rule)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// draft is the config rule as a rule to validate. A config threshold is a
// YAML number; its shortest decimal form is what was written.
func (rc RuleConfig) draft() *draft {
	d := &draft{Rule: Rule{
		ID: rc.ID, Name: rc.Name, Kind: rc.Kind, Origin: OriginConfig,
		Scope: Scope{Provider: rc.Scope.Provider, Model: rc.Scope.Model, Operation: rc.Scope.Operation,
			Service: rc.Scope.Service, Environment: rc.Scope.Environment, Team: rc.Scope.Team, Feature: rc.Scope.Feature,
			Customer: rc.Scope.Customer, User: rc.Scope.User},
		GroupBy: append([]string(nil), rc.GroupBy...), Window: rc.Window, For: rc.For, Severity: rc.Severity,
		Channels: append([]string(nil), rc.Channels...), Message: rc.Message, Enabled: true,
		BudgetID: rc.BudgetID, Source: rc.Source, Mode: rc.Mode,
	}}
	if rc.Scope.Tag.Key != "" || rc.Scope.Tag.Value != "" {
		t := Tag(rc.Scope.Tag)
		d.Scope.Tag = &t
		if t.Key == "" || !validText(t.Key, maxScopeValue) || !validText(t.Value, maxScopeValue) {
			d.badTag = "key must be 1 to 200 printable characters, value at most 200"
		}
	}
	if rc.Threshold != nil {
		d.hasThreshold = true
		d.Threshold = decimal.NewFromFloat(*rc.Threshold)
	}
	// In YAML a window of 0 is the same as none; a negative one is a
	// mistake to name.
	d.hasWindow = rc.Window != 0
	if rc.MinCalls != nil {
		d.hasMinCalls, d.MinCalls = true, *rc.MinCalls
	}
	d.sentThreshold, d.sentWindow, d.sentMinCalls = d.hasThreshold, d.hasWindow, d.hasMinCalls
	if rc.Enabled != nil {
		d.Enabled = *rc.Enabled
	}
	return d
}
