package notify

import (
	"context"

	"go.uber.org/zap"
)

// Dispatcher delivers notifications to named channels. (Skeleton: to be
// completed — a queue and worker per channel, retries with backoff.)
type Dispatcher struct {
	channels   map[string]Channel
	onDelivery func(Delivery)
	logger     *zap.Logger
}

// NewDispatcher delivers to channels; onDelivery is called on every change
// of a delivery's status (pending, each failed attempt, sent, failed).
func NewDispatcher(channels map[string]Channel, onDelivery func(Delivery), logger *zap.Logger) *Dispatcher {
	return &Dispatcher{channels: channels, onDelivery: onDelivery, logger: logger}
}

// Notify queues n for each of the named channels and returns at once.
func (d *Dispatcher) Notify(n Notification, channels []string) {}

// Shutdown stops the workers, waiting for in-flight attempts until ctx ends.
func (d *Dispatcher) Shutdown(ctx context.Context) error { return nil }
