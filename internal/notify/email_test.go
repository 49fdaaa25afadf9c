package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"go.opentelemetry.io/collector/config/configopaque"
)

const (
	smtpUser     = "nexus@example.com"
	smtpPassword = "SMTPSECRETpassword0001"
)

// selfSigned makes a certificate for 127.0.0.1 and localhost that is its
// own CA, and returns it with its PEM for the client to trust.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "nexus test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

type smtpMessage struct {
	from   string
	to     []string
	data   []byte
	authed bool
	tls    bool
}

// smtpFake is a go-smtp backend that accepts smtpUser/smtpPassword with
// AUTH PLAIN; a wrong login is refused with a message that quotes the
// password it was given, as a careless server might.
type smtpFake struct {
	mu       sync.Mutex
	messages []smtpMessage
	password string
}

func (f *smtpFake) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	return &smtpSession{f: f, conn: c}, nil
}

func (f *smtpFake) all() []smtpMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]smtpMessage(nil), f.messages...)
}

type smtpSession struct {
	f      *smtpFake
	conn   *gosmtp.Conn
	msg    smtpMessage
	authed bool
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != smtpUser || password != s.f.password {
			return &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8},
				Message: "Authentication failed for " + username + " with password " + password}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *gosmtp.MailOptions) error {
	s.msg = smtpMessage{from: from}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = b
	s.msg.authed = s.authed
	_, s.msg.tls = s.conn.TLSConnectionState()
	s.f.mu.Lock()
	s.f.messages = append(s.f.messages, s.msg)
	s.f.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

// startSMTP serves f on 127.0.0.1: with STARTTLS when cert is given,
// speaking TLS from the start when implicit.
func startSMTP(t *testing.T, f *smtpFake, cert *tls.Certificate, implicit bool) int {
	t.Helper()
	srv := gosmtp.NewServer(f)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		tc := &tls.Config{Certificates: []tls.Certificate{*cert}}
		if implicit {
			l = tls.NewListener(l, tc)
		} else {
			srv.TLSConfig = tc
		}
	} else {
		// Only for the tls: none case: AUTH over plain text to 127.0.0.1.
		srv.AllowInsecureAuth = true
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func emailConfig(port int, caPEM string) ChannelConfig {
	cfg := ChannelConfig{Type: TypeEmail}
	e := &cfg.Email
	e.Host, e.Port = "127.0.0.1", port
	e.TLSSettings.CAPem = configopaque.String(caPEM)
	e.Username, e.Password = smtpUser, smtpPassword
	e.From = "Nexus Alerts <alerts@nexus.example.com>"
	e.To = []string{"ops@example.com", "Ann Example <ann@example.com>"}
	e.SubjectPrefix = "[Nexus]"
	e.Timeout = 10 * time.Second
	return cfg
}

func TestEmailStartTLS(t *testing.T) {
	cert, caPEM := selfSigned(t)
	f := &smtpFake{password: smtpPassword}
	port := startSMTP(t, f, &cert, false)
	ch := build(t, emailConfig(port, caPEM))
	ch.(*emailChannel).now = func() time.Time { return time.Date(2026, 1, 1, 12, 0, 5, 0, time.UTC) }
	if err := ch.Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	msgs := f.all()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if !m.tls || !m.authed || m.from != "alerts@nexus.example.com" || strings.Join(m.to, ",") != "ops@example.com,ann@example.com" {
		t.Fatalf("envelope: tls %v, authed %v, from %s, to %v", m.tls, m.authed, m.from, m.to)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(m.data))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"From":              `"Nexus Alerts" <alerts@nexus.example.com>`,
		"To":                `<ops@example.com>, "Ann Example" <ann@example.com>`,
		"Subject":           "[Nexus] [CRITICAL] firing: OpenAI spend over budget",
		"Date":              "Thu, 01 Jan 2026 12:00:05 +0000",
		"Message-Id":        ch.(*emailChannel).messageID(sample()),
		"Mime-Version":      "1.0",
		"Auto-Submitted":    "auto-generated",
		"X-Nexus-Dedup-Key": "rule-1:firing:1767268500",
	} {
		if got := msg.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if id := msg.Header.Get("Message-Id"); !strings.HasSuffix(id, ".nexus@nexus.example.com>") {
		t.Errorf("Message-ID %q", id)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, p.Header.Get("Content-Type")+"\n"+string(b))
	}
	wantText := "text/plain; charset=utf-8\n" + strings.ReplaceAll(`[CRITICAL] firing: OpenAI spend over budget

Spend today is 12.30 USD, over the <10.00> USD budget & rising.

Rule:      OpenAI daily spend
State:     firing
Severity:  critical
Value:     12.30 (threshold 10.00)
Labels:    model=gpt-4o, provider=openai
Since:     2026-01-01T11:55:00Z
At:        2026-01-01T12:00:00Z

https://nexus.example.com/events/ev-0001

-- 
Sent by Nexus
`, "\n", "\r\n")
	wantHTML := "text/html; charset=utf-8\n" + strings.ReplaceAll(`<!DOCTYPE html>
<html><body style="font-family: sans-serif">
<h2 style="color: #d00000">[CRITICAL] firing: OpenAI spend over budget</h2>
<p>Spend today is 12.30 USD, over the &lt;10.00&gt; USD budget &amp; rising.</p>
<table>
<tr><th align="left">Rule</th><td>OpenAI daily spend</td></tr>
<tr><th align="left">State</th><td>firing</td></tr>
<tr><th align="left">Severity</th><td>critical</td></tr>
<tr><th align="left">Value</th><td>12.30 (threshold 10.00)</td></tr>
<tr><th align="left">Labels</th><td>model=gpt-4o, provider=openai</td></tr>
<tr><th align="left">Since</th><td>2026-01-01T11:55:00Z</td></tr>
<tr><th align="left">At</th><td>2026-01-01T12:00:00Z</td></tr>
</table>
<p><a href="https://nexus.example.com/events/ev-0001">Open in Nexus</a></p>
<p style="color: #888888">Sent by Nexus</p>
</body></html>
`, "\n", "\r\n")
	if len(parts) != 2 || parts[0] != wantText || parts[1] != wantHTML {
		t.Fatalf("parts:\n%q\nwant\n%q\n%q", parts, wantText, wantHTML)
	}
}

func TestEmailImplicitTLS(t *testing.T) {
	cert, caPEM := selfSigned(t)
	f := &smtpFake{password: smtpPassword}
	port := startSMTP(t, f, &cert, true)
	cfg := emailConfig(port, caPEM)
	cfg.Email.Host, cfg.Email.TLS = "localhost", EmailTLSImplicit
	if err := build(t, cfg).Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	if m := f.all(); len(m) != 1 || !m[0].tls || !m[0].authed {
		t.Fatalf("messages %+v", m)
	}
}

func TestEmailPlainToLocalhost(t *testing.T) {
	f := &smtpFake{password: smtpPassword}
	port := startSMTP(t, f, nil, false)
	cfg := emailConfig(port, "")
	cfg.Email.TLS = EmailTLSNone
	if err := build(t, cfg).Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	if m := f.all(); len(m) != 1 || m[0].tls || !m[0].authed {
		t.Fatalf("messages %+v", m)
	}
}

func TestEmailAuthRejected(t *testing.T) {
	cert, caPEM := selfSigned(t)
	f := &smtpFake{password: "the-right-password"}
	port := startSMTP(t, f, &cert, false)
	err := build(t, emailConfig(port, caPEM)).Send(context.Background(), sample())
	if err == nil || !Permanent(err) || !strings.HasPrefix(err.Error(), "send email: AUTH: 535 ") ||
		!strings.Contains(err.Error(), "Authentication failed for nexus@example.com") {
		t.Fatalf("auth rejected: %v (permanent %v)", err, Permanent(err))
	}
	assertNoSecret(t, "auth rejected", err.Error(), smtpPassword)
	if len(f.all()) != 0 {
		t.Fatal("a message got through")
	}
}

func TestEmailRequiresSTARTTLS(t *testing.T) {
	f := &smtpFake{password: smtpPassword}
	port := startSMTP(t, f, nil, false) // offers no STARTTLS
	err := build(t, emailConfig(port, "")).Send(context.Background(), sample())
	if err == nil || !Permanent(err) || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("no STARTTLS: %v", err)
	}
	if len(f.all()) != 0 {
		t.Fatal("sent without TLS")
	}
}

func TestEmailUntrustedCertificate(t *testing.T) {
	cert, _ := selfSigned(t)
	f := &smtpFake{password: smtpPassword}
	port := startSMTP(t, f, &cert, false)
	err := build(t, emailConfig(port, "")).Send(context.Background(), sample())
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	if len(f.all()) != 0 {
		t.Fatal("sent over an unverified connection")
	}
}

func TestEmailHeaderInjection(t *testing.T) {
	c := &emailChannel{from: &mail.Address{Address: "a@example.com"}, now: time.Now}
	n := sample()
	n.Title = "spend\r\nBcc: victim@example.com"
	n.DedupKey = "k\nX-Evil: 1"
	raw, err := c.compose(n)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Bcc") != "" || msg.Header.Get("X-Evil") != "" ||
		msg.Header.Get("Subject") != "[CRITICAL] firing: spend Bcc: victim@example.com" {
		t.Fatalf("headers %v", msg.Header)
	}
}

func TestEmailUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	err = build(t, emailConfig(port, "")).Send(context.Background(), sample())
	if err == nil || Permanent(err) || !strings.Contains(err.Error(), "connect to 127.0.0.1:"+strconv.Itoa(port)) {
		t.Fatalf("unreachable: %v", err)
	}
}
