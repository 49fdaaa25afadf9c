package leader

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Modes of Config.Mode.
const (
	// ModeNone elects nobody: the config alone says who does the work.
	ModeNone = "none"
	// ModeKubernetes elects through a coordination.k8s.io Lease.
	ModeKubernetes = "kubernetes"
)

// Environment and file the defaults of Namespace and Identity come from:
// the pod's own, set through the downward API or mounted with its service
// account.
const (
	NamespaceEnv  = "NEXUS_POD_NAMESPACE"
	PodNameEnv    = "NEXUS_POD_NAME"
	namespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
)

// jitterFactor is client-go's: a retry waits up to 1.2 retry periods, and
// the renew deadline must leave room for one.
const jitterFactor = 1.2

// Config chooses how the one process that does the work is elected.
type Config struct {
	// Mode is none or kubernetes.
	Mode string `mapstructure:"mode"`
	// LeaseName is the Lease every candidate competes for.
	LeaseName string `mapstructure:"lease_name"`
	// Namespace is the Lease's; empty is the pod's (NEXUS_POD_NAMESPACE,
	// else the service account's namespace).
	Namespace string `mapstructure:"namespace"`
	// Identity names this candidate in the Lease; empty is NEXUS_POD_NAME,
	// else the host name. Every candidate's must differ.
	Identity string `mapstructure:"identity"`
	// LeaseDuration is how long a leader that stopped renewing keeps the
	// Lease before another may take it (whole seconds: the Lease's unit).
	LeaseDuration time.Duration `mapstructure:"lease_duration"`
	// RenewDeadline is how long the leader keeps trying to renew before it
	// stops leading; shorter than LeaseDuration, so that it stops before
	// another can start.
	RenewDeadline time.Duration `mapstructure:"renew_deadline"`
	// RetryPeriod is how often candidates try to take the Lease and the
	// leader to renew it.
	RetryPeriod time.Duration `mapstructure:"retry_period"`
}

// leaseResolution is how finely candidates see a Lease's renew time:
// client-go compares the record as JSON, with times to the second.
const leaseResolution = time.Second

// NewDefaultConfig elects nobody; when kubernetes is chosen, the timings
// are client-go's usual ones.
func NewDefaultConfig() Config {
	return Config{Mode: ModeNone, LeaseName: "nexus-alert-evaluator", LeaseDuration: 15 * time.Second,
		RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}
}

// Enabled tells whether processes are elected.
func (c *Config) Enabled() bool { return c.Mode == ModeKubernetes }

// Validate checks the block; errors name their keys. In mode none nothing
// else is read, so nothing else is checked.
func (c *Config) Validate() error {
	switch c.Mode {
	case ModeNone, "":
		return nil
	case ModeKubernetes:
	default:
		return fmt.Errorf("mode: %q is not one of %s, %s", c.Mode, ModeNone, ModeKubernetes)
	}
	var errs []error
	for _, f := range []struct{ key, val string }{{"lease_name", c.LeaseName}, {"namespace", c.Namespace}} {
		if f.val == "" && f.key == "namespace" {
			continue // the pod's, found at start
		}
		if msgs := validation.IsDNS1123Subdomain(f.val); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("%s: %s", f.key, strings.Join(msgs, "; ")))
		}
	}
	if len(c.Identity) > 253 {
		errs = append(errs, errors.New("identity: at most 253 characters"))
	}
	switch {
	case c.LeaseDuration < time.Second:
		errs = append(errs, errors.New("lease_duration: must be at least 1s"))
	case c.RenewDeadline <= 0 || c.RenewDeadline >= c.LeaseDuration:
		errs = append(errs, errors.New("renew_deadline: must be positive and shorter than lease_duration, so that a leader stops before another starts"))
	case c.RetryPeriod <= 0 || float64(c.RenewDeadline) <= jitterFactor*float64(c.RetryPeriod):
		errs = append(errs, errors.New("retry_period: must be positive and under renew_deadline/1.2, so that a renewal can be retried"))
	case c.LeaseDuration < c.RenewDeadline+c.RetryPeriod+leaseResolution:
		// Candidates compare the Lease's times to the second, so a
		// follower may see a renewal up to a second late and count the
		// lease from then: the leader must have stopped by then.
		errs = append(errs, errors.New("lease_duration: must be at least renew_deadline + retry_period + 1s, so that a leader that cannot renew stops before another can start"))
	}
	return errors.Join(errs...)
}

// Host is what the defaults are read from; tests give their own.
type Host struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
	Hostname func() (string, error)
}

// OSHost reads the process's environment, files and host name.
func OSHost() Host { return Host{Getenv: os.Getenv, ReadFile: os.ReadFile, Hostname: os.Hostname} }

// Resolve fills in the namespace and identity left empty, from h.
func (c Config) Resolve(h Host) (Config, error) {
	if c.Namespace == "" {
		c.Namespace = strings.TrimSpace(h.Getenv(NamespaceEnv))
	}
	if c.Namespace == "" {
		raw, err := h.ReadFile(namespaceFile)
		if err != nil {
			return c, fmt.Errorf("leader election: no namespace set, %s empty, and the service account's unreadable: %w", NamespaceEnv, err)
		}
		c.Namespace = strings.TrimSpace(string(raw))
	}
	if c.Identity == "" {
		c.Identity = strings.TrimSpace(h.Getenv(PodNameEnv))
	}
	if c.Identity == "" {
		name, err := h.Hostname()
		if err != nil || name == "" {
			return c, fmt.Errorf("leader election: no identity set, %s empty, and no host name: %w", PodNameEnv, err)
		}
		c.Identity = name
	}
	if msgs := validation.IsDNS1123Subdomain(c.Namespace); len(msgs) > 0 {
		return c, fmt.Errorf("leader election: namespace %q: %s", c.Namespace, strings.Join(msgs, "; "))
	}
	return c, nil
}
