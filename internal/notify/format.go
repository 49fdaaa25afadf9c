package notify

import (
	"sort"
	"strings"
)

// Colors by severity, shared by Slack (hex) and Discord (integer) so an
// alert looks the same wherever it is read. A resolution is always green:
// what matters then is that it is over, not how bad it was.
const (
	colorCritical = 0xd00000
	colorWarning  = 0xf2c744
	colorInfo     = 0x439fe0
	colorResolved = 0x2eb886
)

func color(n Notification) int {
	if n.State == StateResolved {
		return colorResolved
	}
	switch n.Severity {
	case SeverityCritical:
		return colorCritical
	case SeverityWarning:
		return colorWarning
	}
	return colorInfo
}

// severityTag is the severity as shouted in a headline; a notification
// without one still reads as an alert.
func severityTag(n Notification) string {
	if n.Severity == "" {
		return "ALERT"
	}
	return strings.ToUpper(n.Severity)
}

func title(n Notification) string {
	switch {
	case n.Title != "":
		return n.Title
	case n.RuleName != "":
		return n.RuleName
	}
	return "alert " + n.RuleID
}

// headline is the one line every channel leads with, so that a phone's
// lock screen or a chat preview says what happened:
// "[CRITICAL] firing: OpenAI spend over budget".
func headline(n Notification) string {
	return "[" + severityTag(n) + "] " + n.State + ": " + title(n)
}

// valueText is "12.30 (threshold 10.00)", or what there is of it.
func valueText(n Notification) string {
	switch {
	case n.Value != "" && n.Threshold != "":
		return n.Value + " (threshold " + n.Threshold + ")"
	case n.Value != "":
		return n.Value
	case n.Threshold != "":
		return "threshold " + n.Threshold
	}
	return ""
}

// labelPairs are the labels as "key=value", sorted so that the same alert
// always reads the same.
func labelPairs(n Notification) []string {
	keys := make([]string, 0, len(n.Labels))
	for k := range n.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+n.Labels[k])
	}
	return out
}

func ruleText(n Notification) string {
	if n.RuleName != "" {
		return n.RuleName
	}
	return n.RuleID
}
