package nexusapiextension

import (
	"github.com/nexus-otel/nexus/internal/alerting"
	"github.com/nexus-otel/nexus/internal/leader"
)

type (
	// AlertingConfig configures alert rules, their evaluation, where
	// notifications go (the alert engine's block, inline), and how the
	// evaluating collector is chosen.
	AlertingConfig struct {
		alerting.Config `mapstructure:",squash"`
		// LeaderElection elects the one collector that evaluates among
		// those with evaluate: true (alerts_leader.go); mode none leaves it
		// to evaluate alone. Its Validate is called by the collector's
		// config checks, under alerting::leader_election.
		LeaderElection leader.Config `mapstructure:"leader_election"`
	}
	// AlertRuleConfig is one rule in the collector config.
	AlertRuleConfig = alerting.RuleConfig
	// AlertRuleScope narrows a config rule; empty fields match anything.
	AlertRuleScope = alerting.RuleScope
)

func defaultAlertingConfig() AlertingConfig {
	return AlertingConfig{Config: alerting.NewDefaultConfig(), LeaderElection: leader.NewDefaultConfig()}
}
