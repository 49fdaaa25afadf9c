package chhttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chdb"
)

// ClickHouse error codes used by this package (names as errorCodeToName
// gives them; TestErrorCodeNames checks them against the engine).
const (
	codeUnsupportedMethod          = 1
	codeCannotReadAllData          = 33
	codeBadArguments               = 36
	codeNotImplemented             = 48
	codeSyntaxError                = 62
	codeUnknownFormat              = 73
	codeUnknownCompression         = 89
	codeUnknownSetting             = 115
	codeTimeoutExceeded            = 159
	codeReadonly                   = 164
	codeTooManySimultaneousQueries = 202
	codeQueryIsTooLarge            = 229
	codeCannotDecompress           = 271
	codeIntoOutfileNotAllowed      = 358
	codeSettingConstraintViolation = 452
	codeQueryWasCancelled          = 394
	codeAccessDenied               = 497
	codeAuthenticationFailed       = 516
	codeUnknownException           = 1002
)

// httpStatusByCode maps ClickHouse error codes to HTTP statuses the way
// ClickHouse's HTTPHandler (exceptionCodeToHTTPStatus) does; codes not listed
// are 500. Additions over the server's list, for refusals this interface
// makes itself or that are plainly the client's fault, are marked (+).
var httpStatusByCode = map[int]codeStatus{
	// 401 / 403
	194: {"REQUIRED_PASSWORD", http.StatusUnauthorized},
	192: {"UNKNOWN_USER", http.StatusForbidden},
	193: {"WRONG_PASSWORD", http.StatusForbidden},
	516: {"AUTHENTICATION_FAILED", http.StatusForbidden},
	512: {"SET_NON_GRANTED_ROLE", http.StatusForbidden},
	164: {"READONLY", http.StatusForbidden},                     // (+)
	497: {"ACCESS_DENIED", http.StatusForbidden},                // (+)
	291: {"DATABASE_ACCESS_DENIED", http.StatusForbidden},       // (+)
	358: {"INTO_OUTFILE_NOT_ALLOWED", http.StatusForbidden},     // (+)
	452: {"SETTING_CONSTRAINT_VIOLATION", http.StatusForbidden}, // (+)

	// 400
	36:  {"BAD_ARGUMENTS", http.StatusBadRequest},
	427: {"CANNOT_COMPILE_REGEXP", http.StatusBadRequest},
	6:   {"CANNOT_PARSE_TEXT", http.StatusBadRequest},
	25:  {"CANNOT_PARSE_ESCAPE_SEQUENCE", http.StatusBadRequest},
	26:  {"CANNOT_PARSE_QUOTED_STRING", http.StatusBadRequest},
	38:  {"CANNOT_PARSE_DATE", http.StatusBadRequest},
	41:  {"CANNOT_PARSE_DATETIME", http.StatusBadRequest},
	72:  {"CANNOT_PARSE_NUMBER", http.StatusBadRequest},
	441: {"CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING", http.StatusBadRequest},
	675: {"CANNOT_PARSE_IPV4", http.StatusBadRequest},
	676: {"CANNOT_PARSE_IPV6", http.StatusBadRequest},
	27:  {"CANNOT_PARSE_INPUT_ASSERTION_FAILED", http.StatusBadRequest},
	376: {"CANNOT_PARSE_UUID", http.StatusBadRequest},
	467: {"CANNOT_PARSE_BOOL", http.StatusBadRequest}, // (+)
	15:  {"DUPLICATE_COLUMN", http.StatusBadRequest},
	44:  {"ILLEGAL_COLUMN", http.StatusBadRequest},
	37:  {"UNKNOWN_ELEMENT_IN_AST", http.StatusBadRequest},
	123: {"UNKNOWN_TYPE_OF_AST_NODE", http.StatusBadRequest},
	8:   {"THERE_IS_NO_COLUMN", http.StatusBadRequest},
	167: {"TOO_DEEP_AST", http.StatusBadRequest},
	168: {"TOO_BIG_AST", http.StatusBadRequest},
	223: {"UNEXPECTED_AST_STRUCTURE", http.StatusBadRequest},
	62:  {"SYNTAX_ERROR", http.StatusBadRequest},
	117: {"INCORRECT_DATA", http.StatusBadRequest},
	53:  {"TYPE_MISMATCH", http.StatusBadRequest},
	321: {"VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE", http.StatusBadRequest},
	42:  {"NUMBER_OF_ARGUMENTS_DOESNT_MATCH", http.StatusBadRequest}, // (+)
	43:  {"ILLEGAL_TYPE_OF_ARGUMENT", http.StatusBadRequest},         // (+)
	456: {"UNKNOWN_QUERY_PARAMETER", http.StatusBadRequest},          // (+)
	457: {"BAD_QUERY_PARAMETER", http.StatusBadRequest},              // (+)
	33:  {"CANNOT_READ_ALL_DATA", http.StatusBadRequest},             // (+)
	271: {"CANNOT_DECOMPRESS", http.StatusBadRequest},                // (+)
	89:  {"UNKNOWN_COMPRESSION_METHOD", http.StatusBadRequest},       // (+)

	// 404
	60:  {"UNKNOWN_TABLE", http.StatusNotFound},
	46:  {"UNKNOWN_FUNCTION", http.StatusNotFound},
	47:  {"UNKNOWN_IDENTIFIER", http.StatusNotFound},
	50:  {"UNKNOWN_TYPE", http.StatusNotFound},
	56:  {"UNKNOWN_STORAGE", http.StatusNotFound},
	81:  {"UNKNOWN_DATABASE", http.StatusNotFound},
	115: {"UNKNOWN_SETTING", http.StatusNotFound},
	152: {"UNKNOWN_DIRECTION_OF_SORTING", http.StatusNotFound},
	63:  {"UNKNOWN_AGGREGATE_FUNCTION", http.StatusNotFound},
	73:  {"UNKNOWN_FORMAT", http.StatusNotFound},
	336: {"UNKNOWN_DATABASE_ENGINE", http.StatusNotFound},
	78:  {"UNKNOWN_TYPE_OF_QUERY", http.StatusNotFound},
	511: {"UNKNOWN_ROLE", http.StatusNotFound},

	// others
	229: {"QUERY_IS_TOO_LARGE", http.StatusRequestEntityTooLarge},
	48:  {"NOT_IMPLEMENTED", http.StatusNotImplemented},
	209: {"SOCKET_TIMEOUT", http.StatusServiceUnavailable},
	202: {"TOO_MANY_SIMULTANEOUS_QUERIES", http.StatusServiceUnavailable},
	76:  {"CANNOT_OPEN_FILE", http.StatusServiceUnavailable},
	381: {"HTTP_LENGTH_REQUIRED", http.StatusLengthRequired},
	159: {"TIMEOUT_EXCEEDED", http.StatusRequestTimeout},
	1:   {"UNSUPPORTED_METHOD", http.StatusMethodNotAllowed}, // (+, for HTTP methods)
}

// codeStatus is an error code's name (checked against the engine by the
// tests) and its HTTP status.
type codeStatus struct {
	name   string
	status int
}

func statusForCode(code int) int {
	if s, ok := httpStatusByCode[code]; ok {
		return s.status
	}
	return http.StatusInternalServerError
}

// queryError is an error answered to the client: ClickHouse's text and code.
type queryError struct {
	code   int
	msg    string // "Code: N. DB::Exception: …"
	status int    // 0: from code
	// wwwAuthenticate asks the client for credentials (none were sent).
	wwwAuthenticate bool
}

func (e *queryError) httpStatus() int {
	if e.status != 0 {
		return e.status
	}
	return statusForCode(e.code)
}

func newError(code int, name, format string, args ...any) *queryError {
	return &queryError{code: code, msg: fmt.Sprintf("Code: %d. DB::Exception: %s. (%s)", code, fmt.Sprintf(format, args...), name)}
}

// toQueryError turns what the engine or the handler returned into the text
// and code to answer with. Engine messages are passed on verbatim.
func toQueryError(err error) *queryError {
	var ee *chdb.EngineError
	var se *sqlError
	switch {
	case errors.As(err, &ee):
		code := ee.Code()
		if code == 0 {
			code = codeUnknownException
		}
		return &queryError{code: code, msg: strings.TrimSpace(ee.Message)}
	case errors.As(err, &se):
		return &queryError{code: se.code, msg: se.msg}
	case errors.Is(err, context.DeadlineExceeded):
		return newError(codeTimeoutExceeded, "TIMEOUT_EXCEEDED", "Timeout exceeded: the request's deadline passed before the query could run")
	case errors.Is(err, context.Canceled):
		return newError(codeQueryWasCancelled, "QUERY_WAS_CANCELLED", "Query was cancelled")
	}
	return newError(codeUnknownException, "UNKNOWN_EXCEPTION", "%s", strings.TrimSpace(err.Error()))
}
