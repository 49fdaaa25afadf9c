// Package notify delivers alert notifications to the channels people live
// in: email over SMTP, Slack and Discord webhooks, Twilio SMS and signed
// generic webhooks. Each named channel has its own queue and retries with
// backoff, so that a slow or dead channel never delays another.
package notify

import (
	"context"
	"time"
)

// States of an alert a notification can announce.
const (
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Severities, most urgent last.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Notification is one alert state change to announce.
type Notification struct {
	// DedupKey is the same for every delivery of one state change of one
	// alert, on every collector: receivers that see it twice (a retry, a
	// fail-over) can drop the copy.
	DedupKey  string
	EventID   string
	RuleID    string
	RuleName  string
	State     string // StateFiring or StateResolved
	Severity  string
	Title     string
	Message   string
	Labels    map[string]string // the alert's scope: provider, model, …
	Value     string            // what was measured, as text
	Threshold string
	StartsAt  time.Time
	At        time.Time
	// Link points a reader at the event (the API's event URL or a
	// dashboard); empty when none is configured.
	Link string
}

// Channel sends to one destination. Send is one attempt; retries are the
// Dispatcher's.
type Channel interface {
	Send(ctx context.Context, n Notification) error
}

// Delivery is the outcome of delivering one notification to one channel.
type Delivery struct {
	EventID  string
	Channel  string
	Status   string // DeliveryPending, DeliverySent, DeliveryFailed
	Attempts int
	Error    string // last error, without secrets
	At       time.Time
}

// Delivery statuses.
const (
	DeliveryPending = "pending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
)
