package store

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// ErrorCode is the ClickHouse error code err carries, or 0 when it carries
// none (a Go-side error: a closed connection, a cancelled context…). It
// finds a Code() int method anywhere in err's chain (the embedded engine's
// errors and the remote store's have one), else the code in ClickHouse's
// own wording of the message ("Code: 252. DB::Exception: …", or
// clickhouse-go's "code: 252, message: …").
func ErrorCode(err error) int {
	if err == nil {
		return 0
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		if c := coded.Code(); c != 0 {
			return c
		}
	}
	if m := codeInText.FindStringSubmatch(err.Error()); m != nil {
		c, _ := strconv.Atoi(m[1])
		return c
	}
	return 0
}

var codeInText = regexp.MustCompile(`(?i)\bcode: (\d{1,5})(?:\. DB::Exception|, message:)`)

// dataErrorCodes are ClickHouse errors that an insert gets because of the
// rows it carries, not because of the store's state: sending the same rows
// again fails the same way, so they must not be retried as an outage is.
// Codes of outages (network, timeouts, memory, read-only, too many
// queries), of schema not yet migrated (unknown table or column) and of
// Nexus's own bugs (syntax) are not here: those are retried.
var dataErrorCodes = map[int]string{
	6:   "CANNOT_PARSE_TEXT",
	25:  "CANNOT_PARSE_ESCAPE_SEQUENCE",
	26:  "CANNOT_PARSE_QUOTED_STRING",
	27:  "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
	32:  "ATTEMPT_TO_READ_AFTER_EOF",
	33:  "CANNOT_READ_ALL_DATA",
	38:  "CANNOT_PARSE_DATE",
	41:  "CANNOT_PARSE_DATETIME",
	53:  "TYPE_MISMATCH",
	69:  "ARGUMENT_OUT_OF_BOUND",
	70:  "CANNOT_CONVERT_TYPE",
	72:  "CANNOT_PARSE_NUMBER",
	117: "INCORRECT_DATA",
	128: "TOO_LARGE_ARRAY_SIZE",
	130: "CANNOT_READ_ARRAY_FROM_TEXT",
	131: "TOO_LARGE_STRING_SIZE",
	190: "SIZES_OF_ARRAYS_DONT_MATCH",
	321: "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
	395: "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO",
	407: "DECIMAL_OVERFLOW",
	469: "VIOLATED_CONSTRAINT",
}

// codeTooManyParts is TOO_MANY_PARTS, which ClickHouse raises for two
// different things: an insert block spanning more partitions than
// max_partitions_per_insert_block (the block's fault: data), and a table
// whose merges lag behind inserts (back-pressure: retry later).
const codeTooManyParts = 252

// IsDataError tells whether err is the engine refusing an insert for the
// data it carries: the block will fail the same way however often it is
// sent, so the writer must isolate the rows at fault instead of retrying.
func IsDataError(err error) bool {
	code := ErrorCode(err)
	if code == codeTooManyParts {
		return strings.Contains(err.Error(), "partitions for single INSERT block")
	}
	_, ok := dataErrorCodes[code]
	return ok
}
