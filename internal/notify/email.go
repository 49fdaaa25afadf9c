package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"
)

// TLS modes of an email channel.
const (
	// EmailTLSStartTLS connects in plain text and upgrades with STARTTLS
	// before anything else is said; a server that does not offer it is an
	// error, never a reason to go on unencrypted.
	EmailTLSStartTLS = "starttls"
	// EmailTLSImplicit speaks TLS from the first byte (SMTPS, port 465).
	EmailTLSImplicit = "implicit"
	// EmailTLSNone sends in plain text; allowed only to a server on this
	// machine (a local relay, a test server).
	EmailTLSNone = "none"
)

// DefaultEmailTimeout bounds one SMTP conversation when the block sets no
// timeout.
const DefaultEmailTimeout = 30 * time.Second

// EmailConfig sends mail over SMTP.
type EmailConfig struct {
	Host string `mapstructure:"host"`
	// Port defaults by tls mode: 587 for starttls, 465 for implicit, 25
	// for none.
	Port int `mapstructure:"port"`
	// TLS is starttls (the default), implicit or none.
	TLS string `mapstructure:"tls"`
	// TLSSettings are the certificate settings of the TLS connection
	// (ca_file, ca_pem, insecure_skip_verify, server_name_override, …).
	TLSSettings configtls.ClientConfig `mapstructure:"tls_settings"`
	// Username and Password log in with AUTH PLAIN; both empty sends
	// without logging in.
	Username      string              `mapstructure:"username"`
	Password      configopaque.String `mapstructure:"password"`
	From          string              `mapstructure:"from"`
	To            []string            `mapstructure:"to"`
	SubjectPrefix string              `mapstructure:"subject_prefix"`
	// Timeout bounds one SMTP conversation, connecting included.
	Timeout time.Duration `mapstructure:"timeout"`
}

func (c *EmailConfig) validate() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("email.host: required"))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("email.port: %d is not a port", c.Port))
	}
	switch c.TLS {
	case "", EmailTLSStartTLS, EmailTLSImplicit:
	case EmailTLSNone:
		if c.Host != "" && !isLoopback(c.Host) {
			errs = append(errs, fmt.Errorf("email.tls: none is only allowed for localhost or 127.0.0.1, not %q (use starttls or implicit)", c.Host))
		}
	default:
		errs = append(errs, fmt.Errorf("email.tls: must be starttls, implicit or none, got %q", c.TLS))
	}
	if c.Username != "" && c.Password == "" {
		errs = append(errs, errors.New("email.password: required with username"))
	}
	if c.Username == "" && c.Password != "" {
		errs = append(errs, errors.New("email.username: required with password"))
	}
	if c.From == "" {
		errs = append(errs, errors.New("email.from: required"))
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("email.from: %q is not an address", c.From))
	}
	if len(c.To) == 0 {
		errs = append(errs, errors.New("email.to: at least one address"))
	}
	for i, to := range c.To {
		if _, err := mail.ParseAddress(to); err != nil {
			errs = append(errs, fmt.Errorf("email.to[%d]: %q is not an address", i, to))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("email.timeout: must not be negative"))
	}
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

type emailChannel struct {
	host     string
	addr     string // host:port
	mode     string
	tls      *tls.Config
	username string
	password string
	from     *mail.Address
	to       []*mail.Address
	prefix   string
	timeout  time.Duration
	helo     string
	redact   redactor
	now      func() time.Time
}

func newEmail(ctx context.Context, c EmailConfig) (*emailChannel, error) {
	mode := c.TLS
	if mode == "" {
		mode = EmailTLSStartTLS
	}
	port := c.Port
	if port == 0 {
		port = map[string]int{EmailTLSStartTLS: 587, EmailTLSImplicit: 465, EmailTLSNone: 25}[mode]
	}
	e := &emailChannel{
		host: c.Host, addr: net.JoinHostPort(c.Host, strconv.Itoa(port)), mode: mode,
		username: c.Username, password: string(c.Password), prefix: c.SubjectPrefix, timeout: c.Timeout,
		redact: newRedactor(string(c.Password)), now: time.Now, helo: "localhost",
	}
	if e.timeout == 0 {
		e.timeout = DefaultEmailTimeout
	}
	if mode != EmailTLSNone {
		tc, err := c.TLSSettings.LoadTLSConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("email.tls_settings: %w", err)
		}
		if tc == nil { // insecure: true without a CA means no TLS to configtls
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if tc.ServerName == "" {
			tc.ServerName = c.Host
		}
		e.tls = tc
	}
	var err error
	if e.from, err = mail.ParseAddress(c.From); err != nil {
		return nil, fmt.Errorf("email.from: %w", err)
	}
	for _, to := range c.To {
		a, err := mail.ParseAddress(to)
		if err != nil {
			return nil, fmt.Errorf("email.to: %w", err)
		}
		e.to = append(e.to, a)
	}
	// Some servers refuse a HELO of "localhost" from a remote peer; our own
	// name is what RFC 5321 asks for.
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		e.helo = h
	}
	return e, nil
}

func (c *emailChannel) secrets() redactor { return c.redact }

// Send is one SMTP conversation. net/smtp has no context, so the
// connection carries the deadline and is closed when ctx ends.
func (c *emailChannel) Send(ctx context.Context, n Notification) error {
	msg, err := c.compose(n)
	if err != nil {
		return permanent(fmt.Errorf("send email: compose: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.converse(ctx, msg); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !Permanent(err) {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return c.redact.error(fmt.Errorf("send email: %w", err))
	}
	return nil
}

func (c *emailChannel) converse(ctx context.Context, msg []byte) error {
	dialer := &net.Dialer{}
	var conn net.Conn
	var err error
	if c.mode == EmailTLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: c.tls}).DialContext(ctx, "tcp", c.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", c.addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", c.addr, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	cl, err := smtp.NewClient(conn, c.host)
	if err != nil {
		_ = conn.Close()
		return smtpError("greeting", err)
	}
	defer cl.Close()
	if err := cl.Hello(c.helo); err != nil {
		return smtpError("EHLO", err)
	}
	if c.mode == EmailTLSStartTLS {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return permanent(fmt.Errorf("%s does not offer STARTTLS, which this channel requires (tls: starttls)", c.addr))
		}
		if err := cl.StartTLS(c.tls); err != nil {
			return smtpError("STARTTLS", err)
		}
	}
	if c.username != "" {
		// PlainAuth refuses to send the password over a connection that is
		// not encrypted unless the server is on this machine.
		if err := cl.Auth(smtp.PlainAuth("", c.username, c.password, c.host)); err != nil {
			return smtpError("AUTH", err)
		}
	}
	if err := cl.Mail(c.from.Address); err != nil {
		return smtpError("MAIL FROM", err)
	}
	for _, to := range c.to {
		if err := cl.Rcpt(to.Address); err != nil {
			return smtpError("RCPT TO "+to.Address, err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return smtpError("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpError("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpError("end of DATA", err)
	}
	// The server took the message at the end of DATA; a failed QUIT does
	// not unsend it.
	_ = cl.Quit()
	return nil
}

// smtpError classifies a server's reply: 5xx is a permanent refusal
// (bad credentials, unknown recipient), 4xx a transient one.
func smtpError(stage string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &SendError{Err: fmt.Errorf("%s: %w", stage, err), Permanent: te.Code >= 500, StatusCode: te.Code}
	}
	return fmt.Errorf("%s: %w", stage, err)
}

// compose writes the message: headers, then text and HTML alternatives,
// both quoted-printable so that long lines and non-ASCII survive every
// relay.
func (c *emailChannel) compose(n Notification) ([]byte, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	subject := headline(n)
	if c.prefix != "" {
		subject = strings.TrimRight(c.prefix, " ") + " " + subject
	}
	to := make([]string, len(c.to))
	for i, a := range c.to {
		to[i] = a.String()
	}
	header := func(k, v string) {
		b.WriteString(k + ": " + headerValue(v) + "\r\n")
	}
	header("From", c.from.String())
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", headerValue(subject)))
	header("Date", c.now().Format(time.RFC1123Z))
	header("Message-ID", c.messageID(n))
	header("MIME-Version", "1.0")
	// RFC 3834: out-of-office and other robots must not answer an alert.
	header("Auto-Submitted", "auto-generated")
	header("X-Nexus-Dedup-Key", n.DedupKey)
	header("Content-Type", "multipart/alternative; boundary=\""+mw.Boundary()+"\"")
	b.WriteString("\r\n")

	var html bytes.Buffer
	if err := emailHTML.Execute(&html, emailView(n)); err != nil {
		return nil, fmt.Errorf("html body: %w", err)
	}
	for _, part := range []struct{ ctype, body string }{
		{"text/plain; charset=utf-8", emailText(n)},
		{"text/html; charset=utf-8", html.String()},
	} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// headerValue keeps a value on its line: a title with a line break must
// not become a header of its own.
func headerValue(v string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, v)), " ")
}

// messageID is the same for every attempt of one notification, and for
// the copy another collector sends, so mail clients that see it twice keep
// one.
func (c *emailChannel) messageID(n Notification) string {
	id := n.DedupKey
	if id == "" {
		id = n.EventID
	}
	var local string
	if id != "" {
		sum := sha256.Sum256([]byte(id))
		local = hex.EncodeToString(sum[:16])
	} else {
		var r [16]byte
		_, _ = rand.Read(r[:])
		local = hex.EncodeToString(r[:])
	}
	domain := "nexus.invalid"
	if i := strings.LastIndexByte(c.from.Address, '@'); i >= 0 && i < len(c.from.Address)-1 {
		domain = c.from.Address[i+1:]
	}
	return "<" + local + ".nexus@" + domain + ">"
}

type fact struct{ Name, Value string }

type emailData struct {
	Headline string
	Color    string
	Message  string
	Facts    []fact
	Link     string
}

func emailView(n Notification) emailData {
	d := emailData{Headline: headline(n), Color: fmt.Sprintf("#%06x", color(n)), Message: n.Message, Link: n.Link}
	add := func(name, value string) {
		if value != "" {
			d.Facts = append(d.Facts, fact{name, value})
		}
	}
	add("Rule", ruleText(n))
	add("State", n.State)
	add("Severity", n.Severity)
	add("Value", valueText(n))
	add("Labels", strings.Join(labelPairs(n), ", "))
	if !n.StartsAt.IsZero() {
		add("Since", n.StartsAt.UTC().Format(time.RFC3339))
	}
	if !n.At.IsZero() {
		add("At", n.At.UTC().Format(time.RFC3339))
	}
	return d
}

func emailText(n Notification) string {
	d := emailView(n)
	var b strings.Builder
	b.WriteString(d.Headline + "\n\n")
	if d.Message != "" {
		b.WriteString(d.Message + "\n\n")
	}
	for _, f := range d.Facts {
		fmt.Fprintf(&b, "%-10s %s\n", f.Name+":", f.Value)
	}
	if d.Link != "" {
		b.WriteString("\n" + d.Link + "\n")
	}
	b.WriteString("\n-- \nSent by Nexus\n")
	return b.String()
}

// emailHTML escapes every value (html/template), so a rule name or label
// cannot inject markup, and drops a link whose scheme is not safe.
var emailHTML = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html><body style="font-family: sans-serif">
<h2 style="color: {{.Color}}">{{.Headline}}</h2>
{{if .Message}}<p>{{.Message}}</p>
{{end}}<table>
{{range .Facts}}<tr><th align="left">{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
{{if .Link}}<p><a href="{{.Link}}">Open in Nexus</a></p>
{{end}}<p style="color: #888888">Sent by Nexus</p>
</body></html>
`))
