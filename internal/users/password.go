package users

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params is the cost of an argon2id hash.
type Argon2Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
	// SaltLength and KeyLength are in bytes.
	SaltLength uint32
	KeyLength  uint32
}

// DefaultArgon2 is RFC 9106's second recommended option (for memory-
// constrained settings): a collector is not a dedicated password server.
func DefaultArgon2() Argon2Params {
	return Argon2Params{Time: 3, Memory: 64 << 10, Threads: 2, SaltLength: 16, KeyLength: 32}
}

// withDefaults fills the zero fields with the defaults and brings the
// others within the bounds parsePHC accepts: a hash made at a cost it
// refuses could never be checked again.
func (p Argon2Params) withDefaults() Argon2Params {
	d := DefaultArgon2()
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLength == 0 {
		p.SaltLength = d.SaltLength
	}
	if p.KeyLength == 0 {
		p.KeyLength = d.KeyLength
	}
	p.Time = min(p.Time, maxTime)
	p.Memory = min(max(p.Memory, 8*uint32(p.Threads)), maxMemory)
	p.SaltLength = min(max(p.SaltLength, minSalt), maxSalt)
	p.KeyLength = min(max(p.KeyLength, minKey), maxKey)
	return p
}

// Bounds on the parameters a stored hash may ask for: a hash is read from
// the table, and an absurd one must not take the process's memory.
const (
	maxMemory = 1 << 21 // KiB: 2 GiB
	maxTime   = 64
	minSalt   = 8
	maxSalt   = 64
	minKey    = 16
	maxKey    = 128
)

var errBadHash = errors.New("not an argon2id hash this version can check")

// phc is the PHC string format of an argon2id hash: the parameters travel
// with the hash, so that they can be raised later without breaking the
// hashes already stored.
func phc(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// parsePHC reads a hash phc made.
func parsePHC(s string) (Argon2Params, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Argon2Params{}, nil, nil, errBadHash
	}
	var p Argon2Params
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return Argon2Params{}, nil, nil, errBadHash
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return Argon2Params{}, nil, nil, errBadHash
			}
			p.Threads = uint8(n)
		default:
			return Argon2Params{}, nil, nil, errBadHash
		}
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || p.Threads == 0 || p.Time == 0 || p.Time > maxTime ||
		p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory ||
		len(salt) < minSalt || len(salt) > maxSalt || len(key) < minKey || len(key) > maxKey {
		return Argon2Params{}, nil, nil, errBadHash
	}
	p.SaltLength, p.KeyLength = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// dummyHash is a well-formed hash that no password matches in practice,
// at the current cost: checked for emails that cannot sign in.
func dummyHash(p Argon2Params) string {
	return phc(p, make([]byte, p.SaltLength), make([]byte, p.KeyLength))
}

// idKey computes one hash, once a hashing slot is free: each takes
// p.Memory, and a flood of sign-ins must wait rather than take the
// process's memory.
func (s *Store) idKey(ctx context.Context, password string, salt []byte, p Argon2Params) ([]byte, error) {
	select {
	case s.hashes <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to hash a password: %w", ctx.Err())
	}
	defer func() { <-s.hashes }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLength), nil
}

// hashPassword is a new hash of password at the configured cost.
func (s *Store) hashPassword(ctx context.Context, password string) (string, error) {
	p := s.o.Argon2
	salt := make([]byte, p.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt a password: %w", err)
	}
	key, err := s.idKey(ctx, password, salt, p)
	if err != nil {
		return "", err
	}
	return phc(p, salt, key), nil
}

// verify tells whether password matches hash, and the cost hash was made
// with.
func (s *Store) verify(ctx context.Context, hash, password string) (bool, Argon2Params, error) {
	p, salt, want, err := parsePHC(hash)
	if err != nil {
		return false, Argon2Params{}, err
	}
	got, err := s.idKey(ctx, password, salt, p)
	if err != nil {
		return false, p, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, p, nil
}
