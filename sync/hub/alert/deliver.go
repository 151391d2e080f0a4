package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// Timeouts of one attempt. A receiver slower than this is treated like one
// that is down: the attempt is retried later, and meanwhile the Sender's
// other workers go on with other targets.
const (
	WebhookTimeout = 10 * time.Second
	SMTPTimeout    = 30 * time.Second // a mail server may delay its greeting on purpose
)

// Attempt is the outcome of one delivery attempt to one target.
type Attempt struct {
	Target    Target        `json:"target"`
	At        time.Time     `json:"at"`
	OK        bool          `json:"ok"`
	Permanent bool          `json:"permanent,omitempty"` // failed, and retrying cannot help
	Status    string        `json:"status,omitempty"`    // "200 OK", "503 Service Unavailable", SMTP "250", "550"
	Err       string        `json:"error,omitempty"`     // why it failed; never holds a password or a webhook URL
	Took      time.Duration `json:"took_ns"`
}

// Deliverer makes single delivery attempts. The zero value with a Config
// is ready to use; it is safe for concurrent use.
type Deliverer struct {
	Config Config
	// Client posts webhooks; nil means a client that does not follow
	// redirects (a POST redirected would become a GET and lose the body).
	// Each attempt has its own WebhookTimeout either way.
	Client *http.Client
	// Hostname is the name the hub gives in SMTP EHLO; "" means
	// os.Hostname.
	Hostname string
	// Now is the clock of Attempt.At, Took and the e-mail's Date; nil
	// means time.Now.
	Now func() time.Time
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Deliver makes one attempt to deliver a to t and reports how it went. It
// never retries by itself: that is the Sender's job, which needs to record
// every attempt.
func (d *Deliverer) Deliver(ctx context.Context, a hubapi.Alert, t Target) Attempt {
	start := d.now()
	var at Attempt
	switch t.Kind {
	case KindWebhook:
		at = d.webhook(ctx, a, t)
	case KindEmail:
		at = d.email(ctx, a, t)
	default:
		at = Attempt{Permanent: true, Err: fmt.Sprintf("alert: unknown target kind %q", t.Kind)}
	}
	at.Target = t
	at.At = start
	at.Took = d.now().Sub(start)
	return at
}

// Payload is the JSON body of a webhook POST. Text is a ready message
// (Bahasa Indonesia), so chat systems that show a "text" field (Mattermost,
// Rocket.Chat, Slack-compatible hooks) need no adapter.
type Payload struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"` // opened | resolved | reminder | alive | backup | expiry | disk
	Incident string    `json:"incident,omitempty"`
	Office   string    `json:"office,omitempty"` // empty for the hub's own alerts
	Subject  string    `json:"subject"`
	Text     string    `json:"text"`
	Queued   time.Time `json:"queued"`
	URL      string    `json:"url,omitempty"` // the incident on the dashboard
}

// NewPayload is the webhook body of a; dashboard is Config.DashboardURL.
func NewPayload(a hubapi.Alert, dashboard string) Payload {
	return Payload{
		ID:       a.ID,
		Kind:     a.Kind,
		Incident: a.Incident,
		Office:   a.Office,
		Subject:  a.Subject,
		Text:     a.Text,
		Queued:   a.Queued,
		URL:      incidentURL(dashboard, a.Incident),
	}
}

func incidentURL(dashboard, incident string) string {
	if dashboard == "" || incident == "" {
		return ""
	}
	return dashboard + "incidents/" + url.PathEscape(incident)
}

func (d *Deliverer) webhook(ctx context.Context, a hubapi.Alert, t Target) Attempt {
	body, err := json.Marshal(NewPayload(a, d.Config.DashboardURL))
	if err != nil {
		return Attempt{Permanent: true, Err: fmt.Sprintf("alert: webhook: encode: %v", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.Addr, bytes.NewReader(body))
	if err != nil {
		return Attempt{Permanent: true, Err: "alert: webhook: " + withoutURL(err).Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kioskhub")
	// The same key on every attempt: a receiver that got the alert but
	// whose answer was lost can recognise the retry.
	req.Header.Set("Idempotency-Key", a.ID)

	client := d.Client
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := client.Do(req)
	if err != nil {
		return Attempt{Err: "alert: webhook: " + withoutURL(err).Error()}
	}
	defer resp.Body.Close()
	// Read a little of the answer, for the delivery log, and drain a bit
	// more so the connection can be reused.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))

	at := Attempt{Status: resp.Status}
	code := resp.StatusCode
	switch {
	case code >= 200 && code <= 299:
		at.OK = true
		return at
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		// The receiver is busy or broken for now.
	default:
		// 3xx (the URL moved: fix the file) and other 4xx (the receiver
		// refuses this request, and would refuse it again).
		at.Permanent = true
	}
	at.Err = "alert: webhook: " + resp.Status
	if s := printable(snippet); s != "" {
		at.Err += ": " + s
	}
	return at
}

// withoutURL drops the URL that net/http puts in its errors: a webhook URL
// may hold the hook's token, and Attempt.Err goes to the delivery log.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// printable turns a response body into one short line for the log.
func printable(b []byte) string {
	if !utf8.Valid(b) {
		return ""
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

func (d *Deliverer) hostname() string {
	if d.Hostname != "" {
		return d.Hostname
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}
