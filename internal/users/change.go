package users

import (
	"context"
	"fmt"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/ids"
)

// Create stores a new user. Refused fields are a *domainerr.InvalidError
// naming each; an email already taken (in any case) a
// *domainerr.ConflictError. Whether the tenants of Roles exist is the
// caller's to check.
func (s *Store) Create(ctx context.Context, nu NewUser) (User, error) {
	nu.Email = normalizeEmail(nu.Email)
	fields := validEmail("email", nu.Email)
	fields = append(fields, validName("name", nu.Name)...)
	if nu.Password != "" {
		fields = append(fields, s.validPassword("password", nu.Password)...)
	}
	fields = append(fields, validRoles(nu.Roles)...)
	fields = append(fields, validPreferences(nu.Preferences)...)
	if err := domainerr.Invalid("invalid user", fields...); err != nil {
		return User{}, err
	}
	// Checked again under the lock below; this spares the hash.
	if _, taken := s.byEmail(nu.Email); taken {
		return User{}, domainerr.Conflict("a user with this email already exists")
	}
	var hash string
	if nu.Password != "" {
		var err error
		if hash, err = s.hashPassword(ctx, nu.Password); err != nil {
			return User{}, fmt.Errorf("create user: %w", err)
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, taken := s.byEmail(nu.Email); taken {
		return User{}, domainerr.Conflict("a user with this email already exists")
	}
	now := s.now()
	r := record{User: User{ID: ids.New("usr_"), Email: nu.Email, Name: nu.Name, InstallationAdmin: nu.InstallationAdmin,
		Roles: cloneRoles(nu.Roles), Preferences: clonePreferences(nu.Preferences), Active: true,
		CreatedAt: now, UpdatedAt: now}, hash: hash}
	r, err := s.write(ctx, r)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return clone(r.User), nil
}

// Update changes user id and returns it before and after. No such user
// is a *domainerr.NotFoundError; refused fields a *domainerr.InvalidError;
// a change that would leave no active installation admin a
// *domainerr.ConflictError. A new password ends a lock-out.
func (s *Store) Update(ctx context.Context, id string, u Update) (before, after User, err error) {
	var fields []domainerr.Field
	if u.Name != nil {
		fields = append(fields, validName("name", *u.Name)...)
	}
	if u.Password != nil && *u.Password != "" {
		fields = append(fields, s.validPassword("password", *u.Password)...)
	}
	if u.Roles != nil {
		fields = append(fields, validRoles(u.Roles)...)
	}
	if u.Preferences != nil {
		fields = append(fields, validPreferences(*u.Preferences)...)
	}
	if err := domainerr.Invalid("invalid user", fields...); err != nil {
		return User{}, User{}, err
	}
	if _, ok := s.get(id); !ok {
		return User{}, User{}, domainerr.NotFound("no user " + id)
	}
	var hash string
	if u.Password != nil && *u.Password != "" {
		if hash, err = s.hashPassword(ctx, *u.Password); err != nil {
			return User{}, User{}, fmt.Errorf("update user %s: %w", id, err)
		}
	}
	return s.change(ctx, id, func(r *record) error {
		if u.Name != nil {
			r.Name = *u.Name
		}
		if u.Password != nil {
			r.hash, r.failures, r.lockedUntil = hash, 0, nil
		}
		if u.InstallationAdmin != nil {
			r.InstallationAdmin = *u.InstallationAdmin
		}
		if u.Roles != nil {
			r.Roles = cloneRoles(u.Roles)
		}
		if u.Preferences != nil {
			r.Preferences = clonePreferences(*u.Preferences)
		}
		if u.Active != nil {
			r.Active = *u.Active
		}
		return nil
	})
}

// Deactivate stops user id from signing in, as Update with Active false
// does; a user already inactive is a *domainerr.ConflictError.
func (s *Store) Deactivate(ctx context.Context, id string) (User, error) {
	_, after, err := s.change(ctx, id, func(r *record) error {
		if !r.Active {
			return domainerr.Conflict("user " + id + " is already deactivated")
		}
		r.Active = false
		return nil
	})
	return after, err
}

// change applies edit to user id and stores the result, unless it would
// leave the installation without an active installation admin.
func (s *Store) change(ctx context.Context, id string, edit func(*record) error) (User, User, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	r, ok := s.get(id)
	if !ok {
		return User{}, User{}, domainerr.NotFound("no user " + id)
	}
	before := clone(r.User)
	r.User = clone(r.User)
	if err := edit(&r); err != nil {
		return User{}, User{}, err
	}
	if before.Active && before.InstallationAdmin && !(r.Active && r.InstallationAdmin) && s.activeAdmins() == 1 {
		return User{}, User{}, domainerr.Conflict("this is the last active installation admin; make another user one first")
	}
	r.UpdatedAt = s.now()
	r, err := s.write(ctx, r)
	if err != nil {
		return User{}, User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	return before, clone(r.User), nil
}

func clone(u User) User {
	u.Roles = cloneRoles(u.Roles)
	u.Preferences = clonePreferences(u.Preferences)
	return u
}

func cloneRoles(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func clonePreferences(p Preferences) Preferences {
	if p.Contacts != nil {
		c := make(map[string]string, len(p.Contacts))
		for k, v := range p.Contacts {
			c[k] = v
		}
		p.Contacts = c
	}
	if p.Notify != nil {
		n := make(map[string][]string, len(p.Notify))
		for k, v := range p.Notify {
			n[k] = append([]string(nil), v...)
		}
		p.Notify = n
	}
	return p
}
