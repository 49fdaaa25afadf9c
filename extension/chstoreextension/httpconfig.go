package chstoreextension

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chhttp"
)

// validate checks the exposure and limit keys of the HTTP interface.
func (h *HTTPConfig) validate() []error {
	var errs []error
	if !isLoopbackEndpoint(h.NetAddr.Endpoint) && h.Username == "" && h.Password == "" && len(h.Users) == 0 {
		errs = append(errs, fmt.Errorf("http.endpoint, http.username: the HTTP interface would listen on %q, beyond this "+
			"machine, without credentials: set http.username and http.password, or listen on 127.0.0.1", h.NetAddr.Endpoint))
	}
	if h.CORS.HasValue() {
		errs = append(errs, errors.New("http.cors: not used by the ClickHouse HTTP interface; list origins in http.cors_allowed_origins"))
	}
	for _, o := range h.CORSAllowedOrigins {
		if _, ok := chhttp.NormalizeOrigin(o); !ok {
			errs = append(errs, fmt.Errorf("http.cors_allowed_origins: %q is not an origin such as https://grafana.example.com "+
				"(scheme and host, no path; \"*\" is not accepted)", o))
		}
	}
	for _, host := range h.AllowedHosts {
		if host == "" || strings.ContainsAny(host, ":/*@ ") {
			errs = append(errs, fmt.Errorf("http.allowed_hosts: %q is not a host name (no port, scheme or wildcard)", host))
		}
	}
	if h.MaxExecutionTime < time.Second || h.MaxExecutionTime > maxQueryTimeCeiling {
		errs = append(errs, fmt.Errorf("http.max_execution_time: must be between 1s and %v, got %v", maxQueryTimeCeiling, h.MaxExecutionTime))
	}
	if h.MaxConcurrentQueries < 1 {
		errs = append(errs, fmt.Errorf("http.max_concurrent_queries: must be at least 1, got %d", h.MaxConcurrentQueries))
	}
	if h.QueueTimeout <= 0 {
		errs = append(errs, fmt.Errorf("http.queue_timeout: must be positive, got %v", h.QueueTimeout))
	}
	if h.MaxResultBytes < 1 {
		errs = append(errs, fmt.Errorf("http.max_result_bytes: must be positive, got %d", h.MaxResultBytes))
	}
	if h.MaxMemoryUsage < 1 {
		errs = append(errs, fmt.Errorf("http.max_memory_usage: must be positive, got %d", h.MaxMemoryUsage))
	}
	// A response must be written before the server's write timeout, which
	// starts when the request is read: the wait for a turn and the query
	// come first.
	if need := h.MaxExecutionTime + h.QueueTimeout; h.WriteTimeout > 0 && h.WriteTimeout <= need {
		errs = append(errs, fmt.Errorf("http.write_timeout: %v leaves no time to answer a query that may wait "+
			"http.queue_timeout (%v) and run http.max_execution_time (%v): raise it above %v, or set 0",
			h.WriteTimeout, h.QueueTimeout, h.MaxExecutionTime, need))
	}
	return errs
}

// isLoopbackEndpoint reports an endpoint that only this machine reaches:
// localhost or a 127.0.0.0/8 or ::1 address. An empty host is every
// interface.
func isLoopbackEndpoint(endpoint string) bool {
	host, _, err := net.SplitHostPort(endpoint)
	if err != nil {
		host = endpoint
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// limits are the HTTP interface's engine limits.
func (cfg *Config) httpLimits() chhttp.Limits {
	return chhttp.Limits{
		MaxExecutionTime: cfg.HTTP.MaxExecutionTime,
		MaxResultBytes:   cfg.HTTP.MaxResultBytes,
		MaxMemoryUsage:   cfg.HTTP.MaxMemoryUsage,
	}
}
