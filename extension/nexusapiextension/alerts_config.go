package nexusapiextension

import "github.com/nexus-otel/nexus/internal/alerting"

// The alerting block of the config is the alert engine's; these names
// keep the extension's Config as it was.
type (
	// AlertingConfig configures alert rules, their evaluation and where
	// notifications go.
	AlertingConfig = alerting.Config
	// AlertRuleConfig is one rule in the collector config.
	AlertRuleConfig = alerting.RuleConfig
	// AlertRuleScope narrows a config rule; empty fields match anything.
	AlertRuleScope = alerting.RuleScope
)

func defaultAlertingConfig() AlertingConfig { return alerting.NewDefaultConfig() }
