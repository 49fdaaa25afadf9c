// Package sso signs people in with an OpenID Connect provider: the
// authorisation code flow with PKCE, state and nonce; the ID token checked
// (signature, issuer, audience, expiry, nonce); the email required to be
// verified and, when configured, in an allowed domain; and the token's
// claims mapped to a role per tenant and to installation admin. Sessions,
// users and the audit trail are the caller's: this package only says who
// signed in and what they may do, or why they may not.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	// PendingTTL is how long a browser has from Begin to the callback:
	// long enough for a password and a second factor, short enough that a
	// leaked state is soon worthless.
	PendingTTL = 10 * time.Minute
	// requestTimeout bounds each call to the provider when the caller's
	// client sets no timeout; a hung provider must not hold a callback.
	requestTimeout = 15 * time.Second
	// maxResponse bounds each answer of the provider: discovery, keys and
	// tokens are a few KiB; the libraries read them whole.
	maxResponse = 1 << 20
	// maxCode bounds the code taken from the callback's query string
	// before it is sent anywhere.
	maxCode = 4096
)

// Provider is a discovered OpenID provider, ready to sign people in. It is
// safe for concurrent use.
type Provider struct {
	cfg    Config
	client *http.Client
	oauth  oauth2.Config
	// verifier decides; signature checks only the signature, so that a
	// refusal can name the check that failed from claims known genuine.
	verifier   *oidc.IDTokenVerifier
	signature  *oidc.IDTokenVerifier
	adminClaim string
	adminValue string
	domains    map[string]bool
}

// New discovers cfg's provider with httpClient (nil: a default one); each
// call to the provider is bounded by the client's timeout, or by
// requestTimeout when it has none.
func New(ctx context.Context, cfg Config, httpClient *http.Client) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, errors.New("sso: no issuer configured")
	}
	client := boundedClient(httpClient)
	dctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	op, err := oidc.NewProvider(oidc.ClientContext(dctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover the OpenID provider %s: %w", cfg.Issuer, err)
	}
	var doc struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := op.Claims(&doc); err != nil {
		return nil, fmt.Errorf("read the discovery document of %s: %w", cfg.Issuer, err)
	}
	ep := op.Endpoint()
	for name, u := range map[string]string{"authorization_endpoint": ep.AuthURL, "token_endpoint": ep.TokenURL, "jwks_uri": doc.JWKS} {
		if !endpointOK(u) {
			return nil, fmt.Errorf("discovery document of %s: %s %q must be an https URL", cfg.Issuer, name, u)
		}
	}
	p := &Provider{
		cfg:    cfg,
		client: client,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: string(cfg.ClientSecret),
			Endpoint:     ep,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       slices.Clone(cfg.scopes()),
		},
		verifier:  op.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		signature: op.Verifier(&oidc.Config{SkipClientIDCheck: true, SkipIssuerCheck: true, SkipExpiryCheck: true}),
		domains:   map[string]bool{},
	}
	p.adminClaim, p.adminValue, _ = strings.Cut(cfg.AdminClaim, "=")
	for _, d := range cfg.AllowedEmailDomains {
		p.domains[strings.ToLower(d)] = true
	}
	return p, nil
}

// Pending is a sign-in between Begin and Finish. The caller keeps it where
// only this browser's callback can find it and no one can change it (a
// short-lived, HttpOnly, signed cookie, or server-side); only State ever
// travels in a URL.
type Pending struct {
	State    string
	Nonce    string
	Verifier string
	Expires  time.Time
}

// Begin starts a sign-in: the provider's URL to send the browser to, and
// what Finish needs to check the callback.
func (p *Provider) Begin() (authURL string, pending Pending, err error) {
	state, err := random()
	if err != nil {
		return "", Pending{}, err
	}
	nonce, err := random()
	if err != nil {
		return "", Pending{}, err
	}
	verifier := oauth2.GenerateVerifier()
	authURL = p.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	return authURL, Pending{State: state, Nonce: nonce, Verifier: verifier, Expires: time.Now().Add(PendingTTL)}, nil
}

func random() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate a sign-in secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Identity is who signed in and what they may do.
type Identity struct {
	// Subject is the issuer, "|" and the token's sub: sub is unique only
	// within its issuer.
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	// Roles is the role per tenant id, the highest each mapping grants.
	Roles             map[string]string
	InstallationAdmin bool
	Groups            []string
}

// Finish completes a sign-in from the callback's state and code. Every
// refusal is an *Error, an ErrSignIn; a sign-in that maps to no role is
// also ErrNoRole.
func (p *Provider) Finish(ctx context.Context, pending Pending, state, code string) (Identity, error) {
	if pending.State == "" || subtle.ConstantTimeCompare([]byte(pending.State), []byte(state)) != 1 {
		return Identity{}, refuse(ReasonStateMismatch, nil)
	}
	if !time.Now().Before(pending.Expires) {
		return Identity{}, refuse(ReasonPendingExpired, nil)
	}
	if pending.Nonce == "" || pending.Verifier == "" {
		return Identity{}, refuse(ReasonPendingInvalid, nil)
	}
	if code == "" || len(code) > maxCode {
		return Identity{}, refuse(ReasonExchangeFailed, fmt.Errorf("code empty or over %d bytes", maxCode))
	}
	tok, err := p.oauth.Exchange(oidc.ClientContext(ctx, p.client), code, oauth2.VerifierOption(pending.Verifier))
	if err != nil {
		return Identity{}, refuse(ReasonExchangeFailed, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, refuse(ReasonMissingIDToken, nil)
	}
	idt, err := p.verify(ctx, raw)
	if err != nil {
		return Identity{}, err
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(pending.Nonce)) != 1 {
		return Identity{}, refuse(ReasonNonceMismatch, nil)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, refuse(ReasonInvalidToken, err)
	}
	return p.identity(idt, claims)
}

// verify checks raw with the strict verifier; when that refuses, it asks
// the signature-only one which check it was, so that the reason comes from
// claims whose signature holds (a forged token is a bad signature, whatever
// issuer it claims).
func (p *Provider) verify(ctx context.Context, raw string) (*oidc.IDToken, error) {
	idt, err := p.verifier.Verify(ctx, raw)
	if err == nil {
		return idt, nil
	}
	signed, serr := p.signature.Verify(ctx, raw)
	var expired *oidc.TokenExpiredError
	switch {
	case serr != nil:
		return nil, refuse(ReasonBadSignature, err)
	case signed.Issuer != p.cfg.Issuer:
		return nil, refuse(ReasonWrongIssuer, err)
	case !slices.Contains(signed.Audience, p.cfg.ClientID):
		return nil, refuse(ReasonWrongAudience, err)
	case errors.As(err, &expired):
		return nil, refuse(ReasonTokenExpired, err)
	}
	return nil, refuse(ReasonInvalidToken, err)
}

func endpointOK(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && loopback(u.Hostname()))
}

// boundedClient is c (or a default client) with a timeout if it had none,
// and every response body cut off at maxResponse.
func boundedClient(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	}
	if out.Timeout <= 0 {
		out.Timeout = requestTimeout
	}
	base := out.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = limitTransport{base: base}
	return &out
}

type limitTransport struct{ base http.RoundTripper }

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: maxResponse}
	return resp, nil
}

var errTooLarge = fmt.Errorf("response from the OpenID provider over %d bytes", maxResponse)

// limitedBody fails a read past its limit rather than ending it quietly,
// so that a cut-off document is an error, not a truncated one.
type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(buf []byte) (int, error) {
	if int64(len(buf)) > b.left+1 {
		buf = buf[:b.left+1]
	}
	n, err := b.ReadCloser.Read(buf)
	if int64(n) > b.left {
		n, b.left = int(b.left), 0
		return n, errTooLarge
	}
	b.left -= int64(n)
	return n, err
}
