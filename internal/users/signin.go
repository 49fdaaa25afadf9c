package users

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/ids"
)

// ErrBadCredentials is every refused sign-in that is not a lock-out: an
// unknown email, a wrong password, an inactive user or one without a
// password. One answer for all, so that signing in tells no one which
// emails have an account.
var ErrBadCredentials = errors.New("wrong email or password")

// LockedError is a sign-in refused, whatever the password, after too many
// failures in a row, until Until. Emails without an account lock out
// alike.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "too many failed sign-ins; try again after " + e.Until.UTC().Format(time.RFC3339)
}

// maxTrackedEmails bounds the failures remembered for emails that cannot
// sign in: anyone can make up emails.
const maxTrackedEmails = 10_000

// Authenticate signs in with email and password. It answers
// ErrBadCredentials or a *LockedError for every refusal (see them), and
// takes about one password hash whether the email has an account or not.
// A failure of a user who can sign in is stored, so that the lock-out
// holds across restarts and collectors; a success clears it, and brings a
// hash made at an older cost up to the current one.
func (s *Store) Authenticate(ctx context.Context, email, password string) (User, error) {
	email = normalizeEmail(email)
	if len(email) > maxEmail || len(password) > maxPasswordBytes {
		// Longer than anything Create accepts: matches nothing, and is
		// not worth a hash.
		return User{}, ErrBadCredentials
	}
	now := s.o.Now().UTC()
	r, known := s.byEmail(email)
	if !known || !r.Active || r.hash == "" {
		return User{}, s.refuseUnknown(ctx, email, password, now)
	}
	if r.lockedUntil != nil && now.Before(*r.lockedUntil) {
		return User{}, &LockedError{Until: *r.lockedUntil}
	}
	ok, params, err := s.verify(ctx, r.hash, password)
	if err != nil && ctx.Err() != nil {
		return User{}, fmt.Errorf("sign in: %w", err)
	}
	if err != nil || !ok {
		// A stored hash this version cannot read fails like a wrong
		// password: the user resets it through an admin.
		return User{}, s.failed(ctx, r.ID, now)
	}
	return s.succeeded(ctx, r.ID, password, params)
}

// refuseUnknown answers a sign-in of an email that cannot sign in after a
// hash, as long as a real one takes, counting its failures in memory.
func (s *Store) refuseUnknown(ctx context.Context, email, password string, now time.Time) error {
	if until, locked := s.unknown.locked(email, now); locked {
		return &LockedError{Until: until}
	}
	if _, _, err := s.verify(ctx, s.dummy, password); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	if until, locked := s.unknown.fail(email, now, s.o.MaxFailures, s.o.LockOut); locked {
		return &LockedError{Until: until}
	}
	return ErrBadCredentials
}

// failed counts a failed sign-in of user id. The count is kept at once and
// stored in the background: a store write only failures of existing users
// waited for would tell them apart by time.
func (s *Store) failed(ctx context.Context, id string, now time.Time) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	r, ok := s.get(id)
	if !ok {
		return ErrBadCredentials
	}
	if r.lockedUntil != nil && !now.Before(*r.lockedUntil) {
		r.failures, r.lockedUntil = 0, nil
	}
	r.failures++
	err := ErrBadCredentials
	if int(r.failures) >= s.o.MaxFailures {
		until := now.Add(s.o.LockOut).Truncate(time.Millisecond)
		r.lockedUntil = &until
		err = &LockedError{Until: until}
	}
	r.version = nextVersion(r)
	s.keep(r)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if werr := s.send(wctx, r); werr != nil {
			s.o.Logger.Warn("cannot store a failed sign-in; the lock-out holds on this collector only",
				zap.String("user", r.ID), zap.Error(werr))
		}
	}()
	return err
}

// succeeded clears user id's failures and upgrades its hash, storing the
// user only when either changed.
func (s *Store) succeeded(ctx context.Context, id, password string, params Argon2Params) (User, error) {
	var rehash string
	if params != s.o.Argon2 {
		var err error
		if rehash, err = s.hashPassword(ctx, password); err != nil {
			return User{}, fmt.Errorf("sign in: %w", err)
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	r, ok := s.get(id)
	if !ok || !r.Active {
		return User{}, ErrBadCredentials
	}
	if r.failures == 0 && r.lockedUntil == nil && rehash == "" {
		return clone(r.User), nil
	}
	r.failures, r.lockedUntil = 0, nil
	if rehash != "" {
		r.hash = rehash
	}
	r, err := s.write(ctx, r)
	if err != nil {
		return User{}, fmt.Errorf("sign in: %w", err)
	}
	return clone(r.User), nil
}

// LinkSSO is the user an identity provider vouches for: the one linked to
// subject, else the one with email (then linked to subject), else a new
// user without a password. Its roles become roles: the provider's mapping
// is authoritative. An inactive user is ErrBadCredentials; an email whose
// user is linked to another subject a *domainerr.ConflictError. The
// caller must only pass an email the provider verified.
func (s *Store) LinkSSO(ctx context.Context, subject, email, name string, roles map[string]string) (User, error) {
	email = normalizeEmail(email)
	var fields []domainerr.Field
	if subject == "" || len(subject) > maxSubject || !printable(subject) {
		fields = append(fields, bad("subject", "required, at most 512 printable characters")...)
	}
	fields = append(fields, validEmail("email", email)...)
	fields = append(fields, validRoles(roles)...)
	if err := domainerr.Invalid("invalid single sign-on identity", fields...); err != nil {
		return User{}, err
	}
	name = displayName(name, email)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	r, found := s.bySubject(subject)
	if !found {
		if r, found = s.byEmail(email); found && r.SSOSubject != "" {
			return User{}, domainerr.Conflict("this email's user is linked to another single sign-on identity")
		}
	}
	if found {
		if !r.Active {
			return User{}, ErrBadCredentials
		}
		if r.SSOSubject == subject && sameRoles(r.Roles, roles) {
			return clone(r.User), nil
		}
		r.User = clone(r.User)
		r.SSOSubject, r.Roles, r.UpdatedAt = subject, cloneRoles(roles), s.now()
		r, err := s.write(ctx, r)
		if err != nil {
			return User{}, fmt.Errorf("link single sign-on user: %w", err)
		}
		return clone(r.User), nil
	}
	now := s.now()
	r = record{User: User{ID: ids.New("usr_"), Email: email, Name: name, Roles: cloneRoles(roles), Active: true,
		SSOSubject: subject, CreatedAt: now, UpdatedAt: now}}
	r, err := s.write(ctx, r)
	if err != nil {
		return User{}, fmt.Errorf("create single sign-on user: %w", err)
	}
	return clone(r.User), nil
}

// displayName makes a provider's name fit a user's: printable, bounded,
// the email when there is none. A sign-in is not refused for its name.
func displayName(name, email string) string {
	name = strings.TrimSpace(strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f || c == utf8.RuneError {
			return -1
		}
		return c
	}, name))
	if name == "" {
		name = email
	}
	if utf8.RuneCountInString(name) > maxName {
		name = string([]rune(name)[:maxName])
	}
	return name
}

func sameRoles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// failures counts the failed sign-ins of emails without a usable account,
// the least recently tried forgotten first beyond max.
type failures struct {
	mu  sync.Mutex
	max int
	ll  *list.List
	m   map[string]*list.Element
}

type attempt struct {
	email string
	count int
	until time.Time
}

func newFailures(max int) *failures {
	return &failures{max: max, ll: list.New(), m: map[string]*list.Element{}}
}

// locked tells whether email is locked out at now, and until when.
func (f *failures) locked(email string, now time.Time) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.m[email]; ok {
		a := e.Value.(*attempt)
		return a.until, now.Before(a.until)
	}
	return time.Time{}, false
}

// fail counts a failure of email; it tells whether that locks it out.
func (f *failures) fail(email string, now time.Time, maxFailures int, lockOut time.Duration) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.m[email]
	if !ok {
		e = f.ll.PushFront(&attempt{email: email})
		f.m[email] = e
		if f.ll.Len() > f.max {
			oldest := f.ll.Back()
			f.ll.Remove(oldest)
			delete(f.m, oldest.Value.(*attempt).email)
		}
	}
	f.ll.MoveToFront(e)
	a := e.Value.(*attempt)
	if !a.until.IsZero() && !now.Before(a.until) {
		a.count, a.until = 0, time.Time{}
	}
	a.count++
	if a.count >= maxFailures {
		a.until = now.Add(lockOut).Truncate(time.Millisecond)
		return a.until, true
	}
	return time.Time{}, false
}

func (f *failures) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ll.Len()
}
