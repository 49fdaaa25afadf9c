package sso

import "errors"

// ErrSignIn is every refused sign-in: the API answers each the same way,
// so that no answer tells a prober which check failed.
var ErrSignIn = errors.New("sign-in refused")

// Reasons a sign-in is refused, as Error.Reason gives them for the audit
// trail.
const (
	ReasonStateMismatch    = "state_mismatch"
	ReasonPendingExpired   = "pending_expired"
	ReasonPendingInvalid   = "pending_invalid"
	ReasonExchangeFailed   = "exchange_failed"
	ReasonMissingIDToken   = "missing_id_token"
	ReasonBadSignature     = "bad_signature"
	ReasonWrongIssuer      = "wrong_issuer"
	ReasonWrongAudience    = "wrong_audience"
	ReasonTokenExpired     = "token_expired"
	ReasonInvalidToken     = "invalid_token"
	ReasonNonceMismatch    = "nonce_mismatch"
	ReasonEmailMissing     = "email_missing"
	ReasonEmailNotVerified = "email_not_verified"
	ReasonEmailDomain      = "email_domain_not_allowed"
	ReasonNoRole           = "no_role"
)

// ErrNoRole is a sign-in that proved who the person is, but whose claims
// map to no tenant role and not to installation admin. It is an ErrSignIn.
var ErrNoRole error = &Error{reason: ReasonNoRole}

// Error is a refused sign-in. Its message is ErrSignIn's and nothing
// more; Reason and Detail are for the operator's audit trail and log,
// never for the browser.
type Error struct {
	reason string
	cause  error
}

func refuse(reason string, cause error) *Error { return &Error{reason: reason, cause: cause} }

func (e *Error) Error() string { return ErrSignIn.Error() }

// Reason names the check that refused the sign-in (one of the Reason
// constants).
func (e *Error) Reason() string { return e.reason }

// Detail is what the failing library or provider said, "" when the
// reason says it all. It can name the issuer, the client id or the
// provider's own error text: log it, never send it.
func (e *Error) Detail() string {
	if e.cause == nil {
		return ""
	}
	return e.cause.Error()
}

// Unwrap makes every Error an ErrSignIn, and lets errors.As reach the
// cause (an *oidc.TokenExpiredError, an *oauth2.RetrieveError, ...).
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrSignIn}
	}
	return []error{ErrSignIn, e.cause}
}

// Is matches another Error of the same reason, so that errors.Is(err,
// ErrNoRole) holds whatever the cause.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.reason == e.reason
}
