// Package leader elects, among the collectors of one installation, the one
// that does the work only one may do (evaluating alerts, copying budget
// events into the audit trail). With Kubernetes the candidates compete for
// a coordination.k8s.io Lease through client-go's leader election.
//
// The guarantee the callers build on: a process runs its work only
// between onStart and onStop, onStop has returned before the Lease is
// given up, and a leader that cannot renew stops (after renew_deadline)
// before the Lease expires for the others (after lease_duration).
package leader

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"go.uber.org/zap"
)

// Elector runs work while this process leads.
type Elector interface {
	// Run campaigns until ctx ends. Each time this process becomes the
	// leader it calls onStart with a context that ends when leadership
	// does; when onStart returned nil, onStop is called once leadership
	// ended, and returns before the leadership is given up to another. An
	// onStart error gives up leadership at once (another candidate, or
	// this one later, tries again). onStart and onStop are never called
	// concurrently, and Run returns only after the last onStop.
	Run(ctx context.Context, onStart func(context.Context) error, onStop func()) error
}

// Kubernetes is an Elector over a Lease.
type Kubernetes struct {
	cfg    Config
	client coordinationv1.CoordinationV1Interface
	logger *zap.Logger
}

// NewKubernetes builds an elector for cfg (resolved: namespace and
// identity set) over client (the Lease API only, so that the binary
// carries no other Kubernetes API; a fake clientset's in tests).
func NewKubernetes(cfg Config, client coordinationv1.CoordinationV1Interface, logger *zap.Logger) (*Kubernetes, error) {
	if client == nil {
		return nil, errors.New("leader election: a Kubernetes client is required")
	}
	if cfg.Namespace == "" || cfg.Identity == "" {
		return nil, errors.New("leader election: namespace and identity must be resolved first")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("leader election: %w", err)
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Kubernetes{cfg: cfg, client: client, logger: logger.With(zap.String("lease", cfg.Namespace+"/"+cfg.LeaseName),
		zap.String("identity", cfg.Identity))}, nil
}

// InClusterClient is a client authenticated as the pod's service account.
func InClusterClient() (coordinationv1.CoordinationV1Interface, error) {
	rc, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("leader election: in-cluster Kubernetes config: %w", err)
	}
	c, err := coordinationv1.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("leader election: Kubernetes client: %w", err)
	}
	return c, nil
}

// Run campaigns for the Lease until ctx ends (see Elector).
func (k *Kubernetes) Run(ctx context.Context, onStart func(context.Context) error, onStop func()) error {
	for {
		if err := k.term(ctx, onStart, onStop); err != nil {
			return err
		}
		// A lost term is followed by a new campaign, after a pause so that
		// a failing onStart does not spin.
		t := time.NewTimer(k.cfg.RetryPeriod)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// term campaigns once: until ctx ends, or this process led and stopped.
func (k *Kubernetes) term(ctx context.Context, onStart func(context.Context) error, onStop func()) error {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: k.cfg.LeaseName, Namespace: k.cfg.Namespace},
		Client:     k.client,
		LockConfig: resourcelock.ResourceLockConfig{Identity: k.cfg.Identity},
	}
	termCtx, endTerm := context.WithCancel(ctx)
	defer endTerm()
	// client-go starts onStart on a goroutine of its own and may return
	// before that goroutine has run: the state says whether it began,
	// and closed stops it from beginning once the term is over.
	var (
		mu       sync.Mutex
		closed   bool
		began    bool
		started  = make(chan struct{})
		startErr error
	)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, Name: k.cfg.LeaseName,
		LeaseDuration: k.cfg.LeaseDuration, RenewDeadline: k.cfg.RenewDeadline, RetryPeriod: k.cfg.RetryPeriod,
		// Released here, after onStop: client-go would release before it.
		ReleaseOnCancel: false,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				mu.Lock()
				if closed {
					mu.Unlock()
					return
				}
				began = true
				mu.Unlock()
				defer close(started)
				k.logger.Info("leading: starting the work only one collector does")
				if startErr = onStart(lctx); startErr != nil {
					k.logger.Error("could not start the leader's work; giving up the lease", zap.Error(startErr))
					endTerm()
				}
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(id string) {
				if id != k.cfg.Identity {
					k.logger.Info("another collector leads", zap.String("leader", id))
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	le.Run(termCtx)
	mu.Lock()
	closed = true
	led := began
	mu.Unlock()
	if !led {
		return nil
	}
	<-started
	if startErr == nil {
		onStop()
		k.logger.Info("stopped leading: the leader's work is stopped")
	}
	k.release(ctx, lock)
	return nil
}

// release gives up the Lease if this process still holds it, so that
// another candidate takes over at its next try rather than after
// lease_duration. It runs after onStop: the work has stopped.
func (k *Kubernetes) release(ctx context.Context, lock *resourcelock.LeaseLock) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.cfg.RenewDeadline)
	defer cancel()
	for range 3 { // a renewal in flight when the term ended may conflict
		rec, _, err := lock.Get(rctx)
		if err != nil {
			k.logger.Warn("cannot read the lease to give it up; it expires instead", zap.Error(err))
			return
		}
		if rec.HolderIdentity != k.cfg.Identity {
			return
		}
		now := metav1.NewTime(time.Now())
		err = lock.Update(rctx, resourcelock.LeaderElectionRecord{LeaderTransitions: rec.LeaderTransitions,
			LeaseDurationSeconds: 1, RenewTime: now, AcquireTime: now})
		if err == nil {
			k.logger.Info("gave up the lease")
			return
		}
		k.logger.Debug("giving up the lease failed; retrying", zap.Error(err))
	}
	k.logger.Warn("cannot give up the lease; it expires instead")
}

// Always is the Elector of mode none: this process leads from the start
// until ctx ends.
type Always struct{}

// Run calls onStart, waits for ctx to end, and calls onStop.
func (Always) Run(ctx context.Context, onStart func(context.Context) error, onStop func()) error {
	if err := onStart(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	onStop()
	return nil
}
