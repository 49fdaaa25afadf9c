package chhttp

import (
	"fmt"
	"strings"
)

// This file holds the small amount of SQL awareness the HTTP interface
// needs: where one statement ends (multi-statements are refused, as by
// ClickHouse's HTTP interface), what kind of statement it is, its trailing
// FORMAT clause (for the response headers) and where an INSERT's inline
// data starts. The tokens come from lexer.go; the allow-list is policy.go.
//

// statement is one analysed SQL statement.
type statement struct {
	src  string
	kind string // first keyword, upper case ("SELECT", "INSERT", "(" for a parenthesised query)
	toks []token
	// text is the statement without a trailing ';' and trailing comments:
	// it ends at its last token, so text can be appended to it.
	text string

	// Output FORMAT clause, for statements other than INSERT.
	format        string // name as written ("" if none)
	outSettingsAt int    // offset in text just after the SETTINGS keyword that follows FORMAT, or -1

	insert *insertStatement

	// For INSERT … SELECT: where the SELECT starts and, if the INSERT part
	// has a SETTINGS clause, the offset just after its keyword (else -1).
	selectAt, insertSettingsAt int
}

// insertStatement describes an INSERT whose data is not a SELECT.
type insertStatement struct {
	header     string // "INSERT INTO t (a, b) [SETTINGS …]", without VALUES/FORMAT
	settingsAt int    // offset in header just after its SETTINGS keyword, or -1
	format     string // "Values", the FORMAT name, or "" when the statement has neither
	dataAt     int    // offset in the source where inline data starts (after VALUES / FORMAT name)
}

// sqlError is a refusal in ClickHouse's words.
type sqlError struct {
	code int
	msg  string
}

func (e *sqlError) Error() string { return e.msg }

func syntaxError(src string, pos int, reason string) *sqlError {
	snippet := src[pos:]
	if len(snippet) > 60 {
		snippet = snippet[:60]
	}
	where := snippet
	if where == "" {
		where = "end of query"
	}
	if reason != "" {
		reason = " (" + reason + ")"
	}
	return &sqlError{code: codeSyntaxError, msg: fmt.Sprintf(
		"Code: 62. DB::Exception: Syntax error%s: failed at position %d (%s): %s. (SYNTAX_ERROR)",
		reason, pos+1, where, snippet)}
}

// parseStatement analyses src, which must hold exactly one statement (a
// trailing ';' is allowed).
func parseStatement(src string) (*statement, *sqlError) {
	l := &lexer{src: src}
	first, ok := l.next()
	if !ok || first.isPunct(src, ';') {
		if l.err != nil {
			return nil, lexSyntaxError(src, l.err)
		}
		return nil, &sqlError{code: codeSyntaxError, msg: "Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)"}
	}
	st := &statement{src: src, outSettingsAt: -1, selectAt: -1, insertSettingsAt: -1}
	switch first.kind {
	case tokWord:
		st.kind = strings.ToUpper(first.text(src))
	case tokPunct:
		st.kind = first.text(src)
	}
	st.toks = append(st.toks, first)
	if st.kind == "INSERT" {
		done, err := st.parseInsert(l)
		if err != nil {
			return nil, err
		}
		if done {
			return st, nil
		}
	}
	if err := st.lexRest(l); err != nil {
		return nil, err
	}
	if st.insert != nil { // INSERT without VALUES/FORMAT: data, if any, is TabSeparated
		st.insert.header = st.text
		if st.insert.settingsAt > len(st.text) {
			st.insert.settingsAt = -1
		}
	}
	if st.kind != "INSERT" {
		st.findFormat()
	}
	return st, nil
}

func lexSyntaxError(src string, e *lexError) *sqlError {
	se := syntaxError(src, e.pos, "")
	se.msg = "Code: 62. DB::Exception: " + e.what + ": " + strings.TrimPrefix(se.msg, "Code: 62. DB::Exception: ")
	return se
}

// lexRest reads the remaining tokens up to the end or a top-level ';',
// after which only whitespace and comments may follow (ClickHouse's HTTP
// interface refuses multi-statements; the engine would run them all).
func (st *statement) lexRest(l *lexer) *sqlError {
	for {
		t, ok := l.next()
		if !ok {
			if l.err != nil {
				return lexSyntaxError(st.src, l.err)
			}
			break
		}
		if t.isPunct(st.src, ';') && t.depth == 0 {
			if extra, ok := l.next(); ok {
				return syntaxError(st.src, extra.start, "Multi-statements are not allowed")
			} else if l.err != nil {
				return lexSyntaxError(st.src, l.err)
			}
			break
		}
		st.toks = append(st.toks, t)
	}
	st.text = st.src[:st.toks[len(st.toks)-1].end]
	return nil
}

// parseInsert reads an INSERT up to where its data starts. done reports
// that the statement was fully analysed (inline data found); otherwise the
// caller lexes the rest (INSERT … SELECT, or no data clause).
func (st *statement) parseInsert(l *lexer) (done bool, err *sqlError) {
	src := st.src
	var pending []token
	read := func() (token, bool) {
		if len(pending) > 0 {
			t := pending[0]
			pending = pending[1:]
			return t, true
		}
		t, ok := l.next()
		if ok {
			st.toks = append(st.toks, t)
		}
		return t, ok
	}
	fail := func() (bool, *sqlError) {
		if l.err != nil {
			return false, lexSyntaxError(src, l.err)
		}
		return false, nil
	}
	// INSERT [INTO] [TABLE] [FUNCTION f(…) | [db.]table]
	t, ok := read()
	if ok && t.isWord(src, "INTO") {
		t, ok = read()
	}
	if ok && t.isWord(src, "TABLE") {
		t, ok = read()
	}
	if !ok {
		return fail()
	}
	if t.isWord(src, "FUNCTION") {
		if _, ok = read(); !ok { // function name
			return fail()
		}
		t, ok = read()
		if !ok {
			return fail()
		}
		if t.isPunct(src, '(') {
			for {
				t, ok = read()
				if !ok {
					return fail()
				}
				if t.depth == 0 && t.isPunct(src, ')') {
					break
				}
			}
		} else {
			pending = append(pending, t)
		}
	} else if t.kind == tokWord || t.kind == tokQuoted {
		// [db.]table: the name may be a keyword such as "values".
		if t, ok = read(); ok {
			if t.isPunct(src, '.') {
				read()
			} else {
				pending = append(pending, t)
			}
		}
	} else {
		pending = append(pending, t)
	}
	ins := &insertStatement{settingsAt: -1}
	st.insert = ins
	for {
		t, ok := read()
		if !ok {
			if l.err != nil {
				return false, lexSyntaxError(src, l.err)
			}
			return false, nil // no data clause (ins.format == "")
		}
		if t.depth != 0 {
			continue
		}
		switch {
		case t.isWord(src, "VALUES"):
			ins.format = "Values"
			ins.dataAt = t.end
		case t.isWord(src, "FORMAT"):
			name, ok := read()
			if !ok || (name.kind != tokWord && name.kind != tokQuoted) {
				if l.err != nil {
					return false, lexSyntaxError(src, l.err)
				}
				at := len(src)
				if ok {
					at = name.start
				}
				return false, syntaxError(src, at, "expected format name after FORMAT")
			}
			ins.format = name.name(src)
			ins.dataAt = dataStart(src, name.end)
		case t.isWord(src, "SELECT"), t.isWord(src, "WITH"):
			st.insertSelect(t.start, ins.settingsAt) // an ordinary query
			return false, nil
		case t.isPunct(src, '('):
			// A column list, or a parenthesised SELECT.
			if n, ok := read(); ok {
				if n.isWord(src, "SELECT") || n.isWord(src, "WITH") {
					st.insertSelect(t.start, ins.settingsAt)
					return false, nil
				}
				pending = append(pending, n)
			}
			continue
		case t.isPunct(src, ';'):
			// End of a statement without data: let lexRest check what follows.
			st.toks = st.toks[:len(st.toks)-1]
			l.pos = t.start
			return false, nil
		default:
			if t.isWord(src, "SETTINGS") {
				ins.settingsAt = t.end
			}
			continue
		}
		// VALUES or FORMAT found: the header ends at the token before it.
		for len(st.toks) > 0 && st.toks[len(st.toks)-1].start >= t.start {
			st.toks = st.toks[:len(st.toks)-1]
		}
		ins.header = src[:st.toks[len(st.toks)-1].end]
		if ins.settingsAt > len(ins.header) {
			ins.settingsAt = -1
		}
		st.text = ins.header
		return true, nil
	}
}

func (st *statement) insertSelect(selectAt, settingsAt int) {
	st.insert = nil
	st.selectAt, st.insertSettingsAt = selectAt, settingsAt
}

// dataStart skips what ClickHouse skips between a FORMAT name and inline
// data: spaces and tabs, then one line break.
func dataStart(src string, p int) int {
	for p < len(src) && (src[p] == ' ' || src[p] == '\t' || src[p] == '\f') {
		p++
	}
	if p < len(src) && src[p] == '\r' {
		p++
	}
	if p < len(src) && src[p] == '\n' {
		p++
	}
	return p
}

// findFormat locates a top-level "FORMAT name" that ends the statement or is
// followed only by a SETTINGS clause.
func (st *statement) findFormat() {
	src := st.src
	var top []token
	for _, t := range st.toks {
		if t.depth == 0 {
			top = append(top, t)
		}
	}
	for i := len(top) - 2; i >= 0; i-- {
		if !top[i].isWord(src, "FORMAT") {
			continue
		}
		name := top[i+1]
		if name.kind != tokWord && name.kind != tokQuoted {
			continue
		}
		if i+2 == len(top) {
			st.format = name.name(src)
			return
		}
		if top[i+2].isWord(src, "SETTINGS") {
			st.format = name.name(src)
			st.outSettingsAt = top[i+2].end
			return
		}
	}
}

// nameVariants lists the lower-case names a token may stand for: decoded,
// and with backslashes dropped, so an escape cannot disguise a name.
func nameVariants(t token, src string) []string {
	n := strings.ToLower(t.name(src))
	if t.kind == tokQuoted {
		raw := strings.ToLower(strings.ReplaceAll(src[t.start+1:t.end-1], `\`, ""))
		if raw != n {
			return []string{n, raw}
		}
	}
	return []string{n}
}

// firstKeyword is the upper-cased first word of sql ("" if none).
func firstKeyword(sql string) string {
	l := &lexer{src: sql}
	t, ok := l.next()
	if !ok || t.kind != tokWord {
		return ""
	}
	return strings.ToUpper(t.text(sql))
}

// isIdentifier reports whether s is a plain ClickHouse identifier.
func isIdentifier(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordCharStrict(s[i]) {
			return false
		}
	}
	return true
}

// quoteIdentifier back-quotes a name for splicing into SQL.
func quoteIdentifier(s string) string {
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`", "\x00", `\0`).Replace(s) + "`"
}

// quoteString single-quotes a value for splicing into SQL.
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`).Replace(s) + "'"
}
