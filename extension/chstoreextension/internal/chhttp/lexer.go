package chhttp

import (
	"fmt"
	"strings"
)

// The tokenizer mirrors the boundary rules of ClickHouse's own lexer
// (src/Parsers/Lexer.cpp): '…' strings and `…`/"…" identifiers with
// backslash escapes and doubled quotes, $tag$…$tag$ heredocs, nested /* */
// comments, "--" comments and "# "/"#!" comments to the end of the line.
// Where it cannot be exact it errs towards seeing *more* code (numbers stop
// at the first letter, any non-ASCII byte separates tokens), never less, so
// that a check looking for a token cannot be hidden from it.

type tokKind uint8

const (
	tokWord    tokKind = iota + 1 // bare word: keyword or identifier
	tokQuoted                     // `identifier` or "identifier"
	tokString                     // 'string'
	tokHeredoc                    // $tag$string$tag$
	tokNumber                     // digits and dots only
	tokPunct                      // any other single byte
)

type token struct {
	kind       tokKind
	start, end int // byte offsets in the source
	depth      int // bracket nesting depth the token is at (for an opening bracket: outside it)
}

// maxStatementBytes bounds the SQL this package tokenizes (an INSERT's
// data is not SQL and not counted). The engine's own max_query_size
// (256 KiB unless raised with the max_query_size setting) is usually lower.
const maxStatementBytes = 4 << 20

// maxHeredocMisses bounds "$tag$" openings without a closing tag, each of
// which costs a scan of the rest of the input.
const maxHeredocMisses = 64

type lexer struct {
	src    string
	pos    int
	depth  int
	err    *lexError
	misses int // heredoc openings without a closing
	limit  int // bytes it tokenizes; 0 means maxStatementBytes
}

func (l *lexer) maxBytes() int {
	if l.limit > 0 {
		return l.limit
	}
	return maxStatementBytes
}

// lexError is an unterminated string, identifier or comment.
type lexError struct {
	pos  int
	what string
}

func isWordChar(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isWordCharStrict(c byte) bool { return c != '$' && isWordChar(c) }

// next returns the next token; ok is false at the end of the input or on a
// lexical error (then l.err is set).
func (l *lexer) next() (token, bool) {
	t, ok := l.scan()
	if l.pos > l.maxBytes() && l.err == nil {
		l.err = &lexError{pos: l.maxBytes(), what: fmt.Sprintf(
			"Max query size exceeded (this HTTP interface parses at most %d bytes of SQL)", l.maxBytes())}
		return token{}, false
	}
	return t, ok
}

func (l *lexer) scan() (token, bool) {
	src := l.src
	for l.pos < len(src) {
		start := l.pos
		if start >= l.maxBytes() {
			return token{}, false // next reports it
		}
		c := src[start]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c >= 0x80:
			// Non-ASCII bytes: ClickHouse skips Unicode whitespace and
			// refuses anything else, so treating every such byte as a
			// separator never hides a token.
			l.pos++
		case c == '-' && start+1 < len(src) && src[start+1] == '-',
			c == '#' && start+1 < len(src) && (src[start+1] == ' ' || src[start+1] == '!'):
			if i := strings.IndexByte(src[start:], '\n'); i >= 0 {
				l.pos = start + i + 1
			} else {
				l.pos = len(src)
			}
		case c == '/' && start+1 < len(src) && src[start+1] == '*':
			nesting := 1
			p := start + 2
			for nesting > 0 {
				if p+2 > len(src) {
					l.err = &lexError{pos: start, what: "Multiline comment is not closed"}
					return token{}, false
				}
				switch {
				case src[p] == '/' && src[p+1] == '*':
					nesting++
					p += 2
				case src[p] == '*' && src[p+1] == '/':
					nesting--
					p += 2
				default:
					p++
				}
			}
			l.pos = p
		case c == '\'' || c == '`' || c == '"':
			end, ok := quotedEnd(src, start)
			if !ok {
				what := map[byte]string{'\'': "Single quoted string", '`': "Back quoted identifier", '"': "Double quoted identifier"}[c]
				l.err = &lexError{pos: start, what: what + " is not closed"}
				return token{}, false
			}
			l.pos = end
			kind := tokQuoted
			if c == '\'' {
				kind = tokString
			}
			return token{kind: kind, start: start, end: end, depth: l.depth}, true
		case c == '$':
			end, ok, searched := heredocEnd(src, start)
			if ok {
				l.pos = end
				return token{kind: tokHeredoc, start: start, end: end, depth: l.depth}, true
			}
			if searched {
				if l.misses++; l.misses > maxHeredocMisses {
					l.err = &lexError{pos: start, what: "Too many unclosed heredocs"}
					return token{}, false
				}
			}
			if start+1 < len(src) && isWordChar(src[start+1]) {
				return l.word(start), true
			}
			l.pos++
			return token{kind: tokPunct, start: start, end: start + 1, depth: l.depth}, true
		case c >= '0' && c <= '9':
			p := start
			for p < len(src) && (src[p] >= '0' && src[p] <= '9' || src[p] == '.') {
				p++
			}
			l.pos = p
			return token{kind: tokNumber, start: start, end: p, depth: l.depth}, true
		case isWordChar(c):
			return l.word(start), true
		default:
			l.pos++
			t := token{kind: tokPunct, start: start, end: start + 1, depth: l.depth}
			switch c {
			case '(', '[', '{':
				l.depth++
			case ')', ']', '}':
				if l.depth > 0 {
					l.depth--
				}
				t.depth = l.depth
			}
			return t, true
		}
	}
	return token{}, false
}

func (l *lexer) word(start int) token {
	p := start + 1
	for p < len(l.src) && isWordChar(l.src[p]) {
		p++
	}
	l.pos = p
	return token{kind: tokWord, start: start, end: p, depth: l.depth}
}

// quotedEnd finds the end of the quoted token starting at src[start], as
// ClickHouse's quotedString does: a backslash escapes the next byte and a
// doubled quote stands for one.
func quotedEnd(src string, start int) (int, bool) {
	q := src[start]
	p := start + 1
	for p < len(src) {
		switch src[p] {
		case q:
			if p+1 < len(src) && src[p+1] == q {
				p += 2
				continue
			}
			return p + 1, true
		case '\\':
			p += 2
		default:
			p++
		}
	}
	return 0, false
}

// heredocEnd recognises $tag$…$tag$ where tag is a possibly empty run of
// [A-Za-z0-9_], as the engine does ("$a b$…" is not a heredoc). searched
// reports that an opening tag was found and the rest of src scanned.
func heredocEnd(src string, start int) (end int, ok, searched bool) {
	p := start + 1
	for p < len(src) && isWordCharStrict(src[p]) {
		p++
	}
	if p >= len(src) || src[p] != '$' {
		return 0, false, false
	}
	tag := src[start : p+1]
	i := strings.Index(src[p+1:], tag)
	if i < 0 {
		return 0, false, true
	}
	return p + 1 + i + len(tag), true, true
}

// text returns the token's source text.
func (t token) text(src string) string { return src[t.start:t.end] }

// isWord reports whether t is the bare word w (case-insensitive, as keywords are).
func (t token) isWord(src, w string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text(src), w)
}

func (t token) isPunct(src string, c byte) bool {
	return t.kind == tokPunct && src[t.start] == c
}

// name is the identifier a word or quoted-identifier token stands for.
func (t token) name(src string) string {
	switch t.kind {
	case tokWord:
		return t.text(src)
	case tokQuoted:
		return unescapeQuoted(src[t.start+1 : t.end-1])
	}
	return ""
}

// stringValue is the raw (undecoded) content of a string or heredoc token.
func (t token) stringValue(src string) string {
	switch t.kind {
	case tokString:
		return src[t.start+1 : t.end-1]
	case tokHeredoc:
		tagLen := strings.IndexByte(src[t.start+1:], '$') + 2
		return src[t.start+tagLen : t.end-tagLen]
	}
	return ""
}

// unescapeQuoted decodes the escapes ClickHouse accepts in quoted names and
// strings (\n, \t, \xHH, a doubled quote, and \c for any other c).
func unescapeQuoted(s string) string {
	if !strings.ContainsAny(s, "\\`\"'") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c == '`' || c == '"' || c == '\'') && i+1 < len(s) && s[i+1] == c {
			b.WriteByte(c)
			i++
			continue
		}
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		b.WriteString(unescapeByte(s, &i))
	}
	return b.String()
}

// unescapeByte decodes the escape whose letter is s[*i] (the byte after a
// backslash), advancing *i past any extra bytes it consumes.
func unescapeByte(s string, i *int) string {
	c := s[*i]
	switch c {
	case 'x':
		if *i+2 < len(s) && isHex(s[*i+1]) && isHex(s[*i+2]) {
			v := hexVal(s[*i+1])<<4 | hexVal(s[*i+2])
			*i += 2
			return string([]byte{v})
		}
		return "x"
	case 'a':
		return "\a"
	case 'b':
		return "\b"
	case 'e':
		return "\x1b"
	case 'f':
		return "\f"
	case 'n':
		return "\n"
	case 'r':
		return "\r"
	case 't':
		return "\t"
	case 'v':
		return "\v"
	case '0':
		return "\x00"
	}
	return string(c)
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func hexVal(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// unescapeTSV decodes a value in ClickHouse's "escaped" (TabSeparated) text
// form, the form the HTTP interface takes param_<name> values in: "\t" is a
// tab, "\\" a backslash, and so on.
func unescapeTSV(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		b.WriteString(unescapeByte(s, &i))
	}
	return b.String()
}
