package chhttp

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unsafe"
)

// This file reads what a request brings (credentials, body, statement) and
// writes bodies the way ClickHouse's HTTP interface does.

// credential is a user the interface knows; tenant "" is the installation.
type credential struct {
	userHash, passHash [32]byte
	tenant             string
}

// authenticate returns the tenant the request's credentials belong to, ""
// for the installation's.
func (h *handler) authenticate(r *http.Request, params url.Values) (string, *queryError) {
	hUser, hKey := r.Header.Get("X-ClickHouse-User"), r.Header.Get("X-ClickHouse-Key")
	bUser, bPass, hasBasic := r.BasicAuth()
	inParams := params.Has("user") || params.Has("password")
	conflict := func(a, b string) (string, *queryError) {
		return "", newError(codeAuthenticationFailed, "AUTHENTICATION_FAILED",
			"Invalid authentication: it is not allowed to use %s and %s simultaneously", a, b)
	}
	var user, pass string
	supplied := true
	switch {
	case hUser != "" || hKey != "":
		if hasBasic {
			return conflict("Authorization HTTP header", "X-ClickHouse HTTP headers")
		}
		if inParams {
			return conflict("X-ClickHouse HTTP headers", "authentication via parameters")
		}
		user, pass = hUser, hKey
	case hasBasic:
		if inParams {
			return conflict("Authorization HTTP header", "authentication via parameters")
		}
		user, pass = bUser, bPass
	case inParams:
		user, pass = params.Get("user"), params.Get("password")
	default:
		supplied = false
	}
	if user == "" {
		user = "default"
	}
	if !h.authOn {
		return "", nil
	}
	// Every credential is compared, so that the time taken does not tell
	// which user names exist.
	uh, ph := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	found, tenant := 0, ""
	for _, c := range h.creds {
		m := subtle.ConstantTimeCompare(uh[:], c.userHash[:]) & subtle.ConstantTimeCompare(ph[:], c.passHash[:])
		if m == 1 && found == 0 {
			tenant = c.tenant
		}
		found |= m
	}
	if found == 1 {
		return tenant, nil
	}
	qe := newError(codeAuthenticationFailed, "AUTHENTICATION_FAILED",
		"%s: Authentication failed: password is incorrect, or there is no user with such name", user)
	if !supplied {
		qe.status = http.StatusUnauthorized
		qe.wwwAuthenticate = true
	}
	return "", qe
}

// errBodyTooLarge marks a body over the limit, compressed or not.
var errBodyTooLarge = errors.New("request body too large")

type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, errBodyTooLarge
		}
		return c.r.Read(p) // EOF (or the error) from the underlying reader
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func (h *handler) readBody(r *http.Request) ([]byte, *queryError) {
	if r.Method != http.MethodPost || r.Body == nil {
		return nil, nil
	}
	tooLarge := func() *queryError {
		return newError(codeQueryIsTooLarge, "QUERY_IS_TOO_LARGE",
			"Request body is too large: the limit is %d bytes", h.maxBody)
	}
	if r.ContentLength > h.maxBody {
		return nil, tooLarge()
	}
	var rd io.Reader = &capReader{r: r.Body, left: h.maxBody}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity", "none":
	case "gzip", "x-gzip", "deflate":
		var dec io.ReadCloser
		var err error
		if enc == "deflate" {
			dec, err = zlib.NewReader(rd)
		} else {
			dec, err = gzip.NewReader(rd)
		}
		if err != nil {
			if errors.Is(err, errBodyTooLarge) {
				return nil, tooLarge()
			}
			return nil, newError(codeCannotDecompress, "CANNOT_DECOMPRESS", "Cannot decompress %s request body: %v", enc, err)
		}
		defer dec.Close()
		rd = &capReader{r: dec, left: h.maxBody}
	default:
		return nil, newError(codeUnknownCompression, "UNKNOWN_COMPRESSION_METHOD", "Unknown compression method: %s", enc)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 && enc == "" {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(rd); err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return nil, tooLarge()
		}
		if enc != "" && enc != "identity" && enc != "none" {
			return nil, newError(codeCannotDecompress, "CANNOT_DECOMPRESS", "Cannot decompress %s request body: %v", enc, err)
		}
		return nil, newError(codeCannotReadAllData, "CANNOT_READ_ALL_DATA", "Cannot read the request body: %v", err)
	}
	return buf.Bytes(), nil
}

// writeBody writes the response, gzip- or deflate-compressed when the client
// asked with enable_http_compression=1 and Accept-Encoding.
func writeBody(w http.ResponseWriter, r *http.Request, params url.Values, status int, data []byte) {
	hdr := w.Header()
	if enc := responseEncoding(r, params); enc != "" {
		level := 3 // ClickHouse's default http_zlib_compression_level
		if l, err := strconv.Atoi(params.Get("http_zlib_compression_level")); err == nil && l >= 1 && l <= 9 {
			level = l
		}
		hdr.Set("Content-Encoding", enc)
		hdr.Add("Vary", "Accept-Encoding")
		hdr.Del("Content-Length")
		w.WriteHeader(status)
		var zw io.WriteCloser
		if enc == "gzip" {
			zw, _ = gzip.NewWriterLevel(w, level)
		} else {
			zw, _ = zlib.NewWriterLevel(w, level)
		}
		// A write error is the client's connection failing, which the
		// server sees too: the answer is lost either way.
		_, _ = zw.Write(data)
		_ = zw.Close()
		return
	}
	hdr.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	w.Write(data)
}

func responseEncoding(r *http.Request, params url.Values) string {
	if params.Get("enable_http_compression") != "1" {
		return ""
	}
	var deflate bool
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.ReplaceAll(strings.TrimSpace(q), " ", "") == "q=0" {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip", "x-gzip":
			return "gzip"
		case "deflate":
			deflate = true
		}
	}
	if deflate {
		return "deflate"
	}
	return ""
}

// setCH sets a header under ClickHouse's spelling of its name (net/http
// would send "X-Clickhouse-…"; names are case-insensitive, but some clients
// look them up as spelled).
func setCH(h http.Header, name, value string) { h[name] = []string{value} }

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// statementAndData finds the statement and, for an INSERT, its data: the
// query parameter, the body, or both (the body continuing the query, as in
// ClickHouse). An INSERT's data is never copied into SQL text: it is what
// follows VALUES or the FORMAT name, plus the body when the query parameter
// holds the INSERT.
func statementAndData(qp string, body []byte) (*statement, []byte, *sqlError) {
	switch {
	case qp == "":
		// The body is not modified after this: viewing it as a string
		// spares copying what may be a large INSERT.
		src := unsafe.String(unsafe.SliceData(body), len(body))
		st, err := parseStatement(src)
		if err != nil || st.insert == nil || st.insert.format == "" {
			return st, nil, err
		}
		return st, body[st.insert.dataAt:], nil
	case len(body) == 0:
		st, err := parseStatement(qp)
		if err != nil || st.insert == nil || st.insert.format == "" {
			return st, nil, err
		}
		return st, []byte(qp[st.insert.dataAt:]), nil
	}
	st, err := parseStatement(qp)
	if err != nil || st.insert == nil {
		st, err = parseStatement(qp + "\n" + string(body))
		if err != nil || st.insert == nil || st.insert.format == "" {
			return st, nil, err
		}
		return st, []byte(st.src[st.insert.dataAt:]), nil
	}
	inline := ""
	if st.insert.format != "" {
		inline = qp[st.insert.dataAt:]
	}
	if strings.TrimSpace(inline) == "" {
		return st, body, nil
	}
	return st, append([]byte(inline+"\n"), body...), nil
}
