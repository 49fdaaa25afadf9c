package apiproxyreceiver

import (
	"bytes"
	"sync"
)

// tailSize is how much of the end of a large body is kept: the usage and
// cost fields of every provider here close their JSON documents.
const tailSize = 64 << 10

// capture keeps the head of a body up to max bytes and, once the head is
// full, its last tailSize bytes: bounded memory whatever the body's size.
type capture struct {
	max   int
	head  []byte
	tail  []byte // ring, allocated only for bodies larger than max
	pos   int    // next write position in tail
	full  bool   // tail has wrapped
	total int64
	// headOnly drops everything past the head (compressed bodies: the end
	// of a compressed stream cannot be decoded without its start).
	headOnly bool
}

var headPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func (c *capture) write(p []byte) {
	c.total += int64(len(p))
	if room := c.max - len(c.head); room > 0 {
		if c.head == nil {
			c.head = (*headPool.Get().(*[]byte))[:0]
		}
		n := min(room, len(p))
		c.head = append(c.head, p[:n]...)
		p = p[n:]
	}
	if len(p) == 0 || c.headOnly {
		return
	}
	if c.tail == nil {
		c.tail = make([]byte, tailSize)
	}
	if len(p) >= tailSize {
		copy(c.tail, p[len(p)-tailSize:])
		c.pos, c.full = 0, true
		return
	}
	n := copy(c.tail[c.pos:], p)
	if n < len(p) {
		copy(c.tail, p[n:])
		c.full = true
	}
	c.pos = (c.pos + len(p)) % tailSize
	if c.pos == 0 {
		c.full = true
	}
}

// complete reports whether the whole body is in head.
func (c *capture) complete() bool { return c.total <= int64(len(c.head)) }

// tailBytes returns the kept end of the body, in order.
func (c *capture) tailBytes() []byte {
	if c.tail == nil {
		return nil
	}
	if !c.full {
		return c.tail[:c.pos]
	}
	out := make([]byte, 0, tailSize)
	out = append(out, c.tail[c.pos:]...)
	return append(out, c.tail[:c.pos]...)
}

func (c *capture) release() {
	if c.head != nil && cap(c.head) <= 64<<10 {
		b := c.head[:0]
		headPool.Put(&b)
	}
	*c = capture{}
}

// sseScanner reads a server-sent event stream as it passes and keeps only
// the few events usage and errors are read from: the first (model, id), the
// last carrying usage or cost, the first carrying an error, and the last
// few finish reasons. Memory stays bounded by maxEvent.
type sseScanner struct {
	maxEvent int
	line     []byte // a line split across reads
	data     []byte // the current event's data lines
	event    string // the current event's "event:" field
	skipping bool   // the current line outgrew maxEvent
	dropping bool   // the current event outgrew maxEvent

	events    int
	done      bool // saw data: [DONE]
	truncated bool // an event outgrew maxEvent and was dropped
	first     []byte
	usage     []byte
	errEv     []byte
	errName   string // event name of errEv
	finish    [][]byte
}

const maxFinishEvents = 8

// sseLineSlack is what a line holds besides an event's data: "data: " and
// a CR. A line longer than maxEvent plus this cannot carry data that fits.
const sseLineSlack = len("data: \r")

// write scans p. However a stream is cut into writes, the scanner ends in
// the same state: a line that outgrows maxEvent+sseLineSlack drops its
// event, whether it came whole or in pieces.
func (s *sseScanner) write(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.appendLine(p)
			return
		}
		switch {
		case len(s.line) > 0 || s.skipping:
			s.appendLine(p[:i])
			if !s.skipping {
				s.handleLine(s.line)
			}
			s.line, s.skipping = s.line[:0], false
		case i > s.maxEvent+sseLineSlack:
			s.overflow()
		default:
			s.handleLine(p[:i])
		}
		p = p[i+1:]
	}
}

func (s *sseScanner) appendLine(p []byte) {
	if s.skipping {
		return
	}
	if len(s.line)+len(p) > s.maxEvent+sseLineSlack {
		s.line, s.skipping = s.line[:0], true
		s.overflow()
		return
	}
	s.line = append(s.line, p...)
}

// overflow drops the current event: a line too long to keep was part of it,
// and what is left of it is not the event the provider sent.
func (s *sseScanner) overflow() {
	s.data, s.dropping, s.truncated = s.data[:0], true, true
}

// flush handles a last event the stream did not close with a blank line.
func (s *sseScanner) flush() {
	if len(s.line) > 0 && !s.skipping {
		s.handleLine(s.line)
		s.line = s.line[:0]
	}
	s.dispatch()
}

func (s *sseScanner) handleLine(line []byte) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	switch {
	case len(line) == 0:
		s.dispatch()
	case line[0] == ':': // comment, e.g. OpenRouter's ": OPENROUTER PROCESSING"
	case bytes.HasPrefix(line, []byte("data:")):
		v := line[5:]
		if len(v) > 0 && v[0] == ' ' {
			v = v[1:]
		}
		if s.dropping || len(s.data)+len(v)+1 > s.maxEvent {
			s.data, s.dropping, s.truncated = s.data[:0], true, true
			return
		}
		if len(s.data) > 0 {
			s.data = append(s.data, '\n')
		}
		s.data = append(s.data, v...)
	case bytes.HasPrefix(line, []byte("event:")):
		s.event = string(bytes.TrimSpace(line[6:]))
	}
}

var (
	keyUsage       = []byte(`"usage"`)
	keyFinish      = []byte(`"finish_reason"`)
	keyCost        = []byte(`"costDollars"`)
	quotedError    = []byte(`"error"`)
	quotedFailed   = []byte(`"response.failed"`)
	doneMarker     = []byte("[DONE]")
	keyResponseEnd = []byte(`"response.completed"`)
)

func (s *sseScanner) dispatch() {
	data, event := s.data, s.event
	s.data, s.event, s.dropping = s.data[:0], "", false
	if len(data) == 0 {
		return
	}
	if bytes.Equal(bytes.TrimSpace(data), doneMarker) {
		s.done = true
		return
	}
	s.events++
	if s.first == nil {
		s.first = bytes.Clone(data)
	}
	// Cheap byte tests decide which events are worth decoding later: a
	// stream of thousands of token deltas keeps a handful.
	if s.errEv == nil && (event == "error" || hasValue(data, quotedError) || isValue(data, quotedError) || bytes.Contains(data, quotedFailed)) {
		s.errEv, s.errName = bytes.Clone(data), event
	}
	if hasValue(data, keyUsage) || bytes.Contains(data, keyCost) || bytes.Contains(data, keyResponseEnd) {
		s.usage = append(s.usage[:0], data...)
	}
	if hasValue(data, keyFinish) {
		if len(s.finish) == maxFinishEvents {
			copy(s.finish, s.finish[1:])
			s.finish = s.finish[:maxFinishEvents-1]
		}
		s.finish = append(s.finish, bytes.Clone(data))
	}
}

// hasValue reports whether key appears in data followed by a value other
// than null. Keys cannot occur inside JSON strings unescaped, so a match is
// a key.
func hasValue(data, key []byte) bool {
	for {
		i := bytes.Index(data, key)
		if i < 0 {
			return false
		}
		data = data[i+len(key):]
		j := 0
		for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
			j++
		}
		if j >= len(data) || data[j] != ':' {
			continue
		}
		j++
		for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
			j++
		}
		if j < len(data) && !bytes.HasPrefix(data[j:], []byte("null")) {
			return true
		}
	}
}

// isValue reports whether word appears in data as a value (after a colon),
// as in "finish_reason":"error" or "type":"error".
func isValue(data, word []byte) bool {
	for {
		i := bytes.Index(data, word)
		if i < 0 {
			return false
		}
		j := i - 1
		for j >= 0 && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
			j--
		}
		if j >= 0 && data[j] == ':' {
			return true
		}
		data = data[i+len(word):]
	}
}

func (s *sseScanner) release() {
	*s = sseScanner{}
}
