package exa

import (
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// units: Exa bills every accepted request, whatever it returned.
func units(_ provider.Billed, u *pricing.Usage) string {
	u[pricing.Requests] = 1
	return ""
}
