package chhttp

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The policy is an allow-list checked before anything reaches the engine:
// statement kinds, table functions and other calls, table and database
// engines, formats and settings, each named in the refusal. It works on the
// tokens of sql.go's lexer, so names inside strings and comments are not
// calls, and a call cannot be hidden from it by quoting or escaping its
// name (nameVariants).
//
// The engine is configured as a second line (engine.go, engineprofile.go):
// the read path runs at readonly=1 on a connection of its own, with limits
// set when the connection is opened. What the engine cannot guard is noted
// where the policy guards it alone.

// Default ceilings for Limits fields left at zero.
const (
	DefaultMaxExecutionTime = 30 * time.Second
	DefaultMaxResultBytes   = 64 << 20
	DefaultMaxMemoryUsage   = 2 << 30
)

// Limits are ceilings the engine enforces on every statement of the
// interface (settings given to each connection as it opens). A request may
// lower them through settings, never raise them or set them to 0
// ("unlimited").
type Limits struct {
	// MaxExecutionTime ends a statement with TIMEOUT_EXCEEDED (159).
	MaxExecutionTime time.Duration
	// MaxResultBytes ends a query whose result grows beyond it
	// (TOO_MANY_ROWS_OR_BYTES, 396): nothing larger is ever buffered.
	MaxResultBytes int64
	// MaxMemoryUsage ends a statement that needs more memory
	// (MEMORY_LIMIT_EXCEEDED, 241).
	MaxMemoryUsage int64
}

// WithDefaults fills zero fields with the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxExecutionTime <= 0 {
		l.MaxExecutionTime = DefaultMaxExecutionTime
	}
	if l.MaxResultBytes <= 0 {
		l.MaxResultBytes = DefaultMaxResultBytes
	}
	if l.MaxMemoryUsage <= 0 {
		l.MaxMemoryUsage = DefaultMaxMemoryUsage
	}
	return l
}

// seconds renders MaxExecutionTime as the engine's setting value.
func (l Limits) seconds() string {
	return strconv.FormatFloat(l.MaxExecutionTime.Seconds(), 'f', -1, 64)
}

// policy is what one request may do.
type policy struct {
	write  bool // a POST to an interface that is not read-only
	limits Limits
	cpus   int  // ceiling of max_threads
	tenant bool // a tenant user's request (tenant.go)
}

func accessDenied(format string, args ...any) *sqlError {
	return &sqlError{code: codeAccessDenied, msg: "Code: 497. DB::Exception: " +
		fmt.Sprintf(format, args...) + ". (ACCESS_DENIED)"}
}

func readonlyError(kind string) *sqlError {
	return &sqlError{code: codeReadonly, msg: "Code: 164. DB::Exception: default: Cannot execute query in readonly mode. " +
		kind + " statements do not run on the read-only path. (READONLY)"}
}

// check refuses a statement the interface does not allow.
func (p policy) check(st *statement) *sqlError {
	if err := p.checkKind(st); err != nil {
		return err
	}
	return p.checkTokens(st, st.toks)
}

// checkKind allows the read kinds everywhere and the write kinds on the
// write path, CREATE/DROP/ALTER… narrowed by the kind of object they name.
func (p policy) checkKind(st *statement) *sqlError {
	kind := strings.ToLower(st.kind)
	switch {
	case readKinds[kind]:
		return nil
	case !statementWords[kind]:
		// Not a statement at all: the engine's own answer.
		return syntaxError(st.src, 0, "")
	case kind == "set":
		return accessDenied("SET is not allowed on this HTTP interface: a request runs on a connection of its own, " +
			"so give settings as URL parameters or in a SETTINGS clause")
	case !writeKinds[kind]:
		if !p.write {
			return readonlyError(st.kind)
		}
		return accessDenied("%s statements are not allowed on this HTTP interface", st.kind)
	case !p.write:
		return readonlyError(st.kind)
	}
	src, toks := st.src, st.toks
	object := func(from int) (string, int) { // the object word after CREATE [OR REPLACE] / DROP / ALTER…
		i := from
		if i+1 < len(toks) && toks[i].isWord(src, "OR") && toks[i+1].isWord(src, "REPLACE") {
			i += 2
		}
		if i < len(toks) && toks[i].kind == tokWord {
			return strings.ToUpper(toks[i].text(src)), i
		}
		return "", i
	}
	switch kind {
	case "create", "drop":
		obj, i := object(1)
		if obj == "MATERIALIZED" && (i+1 >= len(toks) || !toks[i+1].isWord(src, "VIEW")) {
			obj = "MATERIALIZED " + strings.ToUpper(toks[min(i+1, len(toks)-1)].text(src))
		}
		if !createObjects[strings.ToLower(obj)] || (kind == "drop" && obj == "MATERIALIZED") {
			return accessDenied("%s %s is not allowed on this HTTP interface", st.kind, obj)
		}
	case "alter", "optimize", "exchange", "rename":
		obj, _ := object(1)
		if obj != "TABLE" && obj != "TABLES" && !(kind == "rename" && obj == "DATABASE") {
			return accessDenied("%s %s is not allowed on this HTTP interface", st.kind, obj)
		}
	case "truncate":
		if obj, _ := object(1); obj == "TEMPORARY" || obj == "ALL" {
			return accessDenied("TRUNCATE %s is not allowed on this HTTP interface", obj)
		}
	}
	return nil
}

// clauseWords start the clauses whose position decides what a name after
// a comma is (a table after FROM or JOIN).
var clauseWords = words(`SELECT FROM WHERE PREWHERE GROUP ORDER HAVING LIMIT SETTINGS FORMAT JOIN ON
	USING WITH UNION QUALIFY WINDOW INTO VALUES ARRAY INTERSECT EXCEPT`)

// tableWords are followed by a table name; after FROM, JOIN, FUNCTION and
// DESCRIBE [TABLE] a name followed by '(' is a table function, after the
// others (INTO t (a, b), CREATE TABLE t (…)) a column list.
var tableWords = words(`FROM JOIN INTO TABLE DESCRIBE DESC EXISTS FUNCTION`)

var tableFunctionWords = words(`FROM JOIN FUNCTION DESCRIBE DESC`)

// fromFunctions take FROM among their arguments.
var fromFunctions = words(`extract trim substring substr position overlay`)

// statementWords start the statements ClickHouse knows; any other first
// word is a syntax error.
var statementWords = words(`SELECT WITH SHOW DESCRIBE DESC EXISTS EXPLAIN ( USE INSERT CREATE ALTER DROP
	TRUNCATE RENAME EXCHANGE OPTIMIZE DELETE UPDATE SET SYSTEM KILL GRANT REVOKE ATTACH DETACH BACKUP
	RESTORE CHECK WATCH MOVE UNDROP BEGIN COMMIT ROLLBACK`)

// checkTokens applies the name checks to every token.
func (p policy) checkTokens(st *statement, toks []token) *sqlError {
	src := st.src
	tok := func(i int) token {
		if i >= 0 && i < len(toks) {
			return toks[i]
		}
		return token{}
	}
	clause := map[int]string{} // last clause word per bracket depth
	inCall := map[int]bool{}   // the brackets at this depth are a call's arguments, not a subquery
	tablePos := make([]bool, len(toks))
	funcPos := make([]bool, len(toks)) // table position where a call is a table function
	describe := strings.EqualFold(st.kind, "DESCRIBE") || strings.EqualFold(st.kind, "DESC")
	engineZone := strings.EqualFold(st.kind, "CREATE") // until the query of CREATE … AS SELECT
	for i, t := range toks {
		prev, next := tok(i-1), tok(i+1)
		if t.kind == tokWord && clauseWords[strings.ToLower(t.text(src))] {
			clause[t.depth] = strings.ToUpper(t.text(src))
		}
		if t.isPunct(src, '(') {
			delete(clause, t.depth+1)
			// extract(DAY FROM x), trim(BOTH ' ' FROM s): a FROM inside
			// these calls' arguments is not a table clause; anywhere else
			// (a subquery, IN (…), view(…), (FROM t SELECT …)) it is.
			inCall[t.depth+1] = prev.kind == tokWord && fromFunctions[strings.ToLower(prev.text(src))]
		}
		// DESCRIBE TABLE (SELECT …): TABLE is the keyword, not a call.
		isName := (t.kind == tokWord || t.kind == tokQuoted) &&
			!(describe && t.isWord(src, "TABLE") && (prev.isWord(src, "DESCRIBE") || prev.isWord(src, "DESC")))
		tablePos[i] = isName && i > 0 && !inCall[t.depth] &&
			(prev.kind == tokWord && tableWords[strings.ToLower(prev.text(src))] &&
				!(prev.isWord(src, "JOIN") && tok(i-2).isWord(src, "ARRAY")) ||
				engineZone && t.depth == 0 && prev.isWord(src, "AS") || // CREATE TABLE t AS other
				prev.isPunct(src, '.') && i >= 2 && tablePos[i-2] ||
				prev.isPunct(src, ',') && (clause[t.depth] == "FROM" || clause[t.depth] == "JOIN"))
		funcPos[i] = tablePos[i] &&
			(prev.kind == tokWord && (tableFunctionWords[strings.ToLower(prev.text(src))] || describe && prev.isWord(src, "TABLE")) ||
				prev.isPunct(src, '.') && funcPos[i-2] ||
				prev.isPunct(src, ','))
		if t.depth == 0 && (t.isWord(src, "SELECT") || t.isWord(src, "WITH")) {
			engineZone = false
		}
		switch {
		case t.isWord(src, "INTO") && next.isWord(src, "OUTFILE"):
			return &sqlError{code: codeIntoOutfileNotAllowed,
				msg: "Code: 358. DB::Exception: INTO OUTFILE is not allowed. (INTO_OUTFILE_NOT_ALLOWED)"}
		case t.isWord(src, "FROM") && next.isWord(src, "INFILE"):
			return accessDenied("FROM INFILE (reading a local file) is not allowed on this HTTP interface")
		case t.isWord(src, "SETTINGS") || t.isWord(src, "SETTING") && prev.isWord(src, "MODIFY"):
			for _, a := range parseAssignments(src, toks[i+1:]) {
				if _, err := p.checkSetting(st, a.name, a.value, false); err != nil {
					return err
				}
			}
		case t.isWord(src, "FORMAT") && (next.kind == tokWord || next.kind == tokQuoted):
			// A format that takes files is refused wherever it follows
			// FORMAT; any other name only where FORMAT is a clause.
			if err := checkFormat(next.name(src), nameVariants(next, src)); err != nil &&
				(err.code == codeAccessDenied || isFormatClause(src, toks, i)) {
				return err
			}
		case engineZone && t.depth == 0 && t.isWord(src, "ENGINE"):
			n := next
			if n.isPunct(src, '=') {
				n = tok(i + 2)
			}
			if err := checkEngine(n, src); err != nil {
				return err
			}
		}
		if !isName {
			continue
		}
		if next.isPunct(src, '(') {
			if err := checkCall(t, src, funcPos[i]); err != nil {
				return err
			}
			if p.tenant {
				for _, n := range nameVariants(t, src) {
					if tenantDeniedCalls[n] {
						return accessDenied("Function %s() is not allowed for tenant users: the engine reads its tables "+
							"without the tenant's row filter", t.name(src))
					}
				}
			}
		} else if tablePos[i] && t.kind == tokQuoted && pathLike(t.name(src)) {
			return accessDenied("Table name %s looks like a file path: the embedded engine reads files named as tables "+
				"of its default database, which this HTTP interface does not allow", t.text(src))
		}
	}
	return nil
}

func sortedKeys(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// pathLike reports a table name the engine's Filesystem overlay on its
// default database would read as a file (`/etc/passwd`, `data.csv`).
func pathLike(name string) bool {
	return strings.ContainsAny(name, "/\\.~")
}

// isFormatClause reports whether the FORMAT word at toks[i] starts a
// FORMAT clause: a name that ends the (sub)query or is followed by
// SETTINGS, after something that is not a list (ORDER BY format DESC).
// Elsewhere "format" is a column or alias.
func isFormatClause(src string, toks []token, i int) bool {
	if i+1 >= len(toks) || (toks[i+1].kind != tokWord && toks[i+1].kind != tokQuoted) {
		return false
	}
	if i > 0 {
		if p := toks[i-1]; p.isWord(src, "BY") || p.isPunct(src, ',') || p.isPunct(src, '(') || p.isPunct(src, '.') {
			return false
		}
	}
	if i+2 >= len(toks) {
		return true
	}
	after := toks[i+2]
	return after.isPunct(src, ')') || after.isWord(src, "SETTINGS")
}

func checkFormat(name string, variants []string) *sqlError {
	for _, v := range variants {
		if deniedFormats[v] {
			return accessDenied("Format %s is not allowed on this HTTP interface (formats that take schema or "+
				"template files, or reach a network schema registry, are refused)", name)
		}
		if !allowedFormats[v] {
			return &sqlError{code: codeUnknownFormat, msg: fmt.Sprintf(
				"Code: 73. DB::Exception: Unknown format %s, or one this HTTP interface does not serve. (UNKNOWN_FORMAT)", name)}
		}
	}
	return nil
}

// checkCall judges a name followed by '('. In table position (after FROM,
// JOIN, INTO FUNCTION…) only the allowed table functions pass; anywhere,
// the engine's other table functions, table and database engines and the
// denied functions are refused.
func checkCall(t token, src string, tablePosition bool) *sqlError {
	for _, n := range nameVariants(t, src) {
		switch {
		case deniedCallNames[n], strings.HasPrefix(n, deniedFunctionPrefix):
			return accessDenied("Function %s() is not allowed on this HTTP interface (it reads files or schemas by path, "+
				"reaches the network or another system, or runs code)", t.name(src))
		case tablePosition && !allowedTableFunctions[n]:
			return accessDenied("Table function %s() is not allowed on this HTTP interface; allowed: %s",
				t.name(src), sortedKeys(allowedTableFunctions))
		}
	}
	return nil
}

func checkEngine(t token, src string) *sqlError {
	if t.kind != tokWord && t.kind != tokQuoted {
		return nil // the engine's syntax error
	}
	for _, n := range nameVariants(t, src) {
		if !allowedTableEngines[n] && !allowedDatabaseEngines[n] {
			return accessDenied("Engine %s is not allowed on this HTTP interface (only engines that keep data in "+
				"this engine's own directory are)", t.name(src))
		}
	}
	return nil
}

// identifierParams lists the names of {name:Identifier} placeholders.
func (st *statement) identifierParams() []string {
	src, toks := st.src, st.toks
	var out []string
	for i := 0; i+4 < len(toks); i++ {
		if toks[i].isPunct(src, '{') && toks[i+2].isPunct(src, ':') && toks[i+3].isWord(src, "Identifier") &&
			toks[i+4].isPunct(src, '}') {
			out = append(out, toks[i+1].name(src))
		}
	}
	return out
}

// checkParams refuses {name:Identifier} values that name a file: a table
// named by a parameter reaches the engine's Filesystem overlay as a
// quoted name would (measured on a readonly=0 connection).
func checkParams(st *statement, params map[string]string) *sqlError {
	for _, name := range st.identifierParams() {
		if v := params[name]; strings.ContainsAny(v, "/\\~") {
			return accessDenied("Parameter %s (Identifier) = %q looks like a file path, which this HTTP interface does not allow", name, v)
		}
	}
	return nil
}

// checkValuesData applies the call checks to the data of an INSERT …
// VALUES: the engine evaluates expressions there
// (input_format_values_interpret_expressions), file() included.
func checkValuesData(data []byte) *sqlError {
	src := string(data)
	l := &lexer{src: src, limit: len(src) + 1}
	var prev token
	havePrev := false
	for {
		t, ok := l.next()
		if !ok {
			if l.err != nil {
				return lexSyntaxError(src, l.err)
			}
			return nil
		}
		if havePrev && t.isPunct(src, '(') && (prev.kind == tokWord || prev.kind == tokQuoted) {
			if err := checkCall(prev, src, false); err != nil {
				return err
			}
		}
		prev, havePrev = t, true
	}
}

// defaultEscape reports SQL with "= DEFAULT": the engine lets such a reset
// through readonly=1 and constraints, so the engine adapter refuses it
// even if the policy let it pass. Unparsable SQL counts as an escape.
func defaultEscape(sql string) bool {
	l := &lexer{src: sql}
	var prev token
	for {
		t, ok := l.next()
		if !ok {
			return l.err != nil
		}
		if prev.isPunct(sql, '=') && t.isWord(sql, "DEFAULT") {
			return true
		}
		prev = t
	}
}
