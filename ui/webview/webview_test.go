package webview_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/plate"
	"github.com/sumbar-samsat/pkbkiosk/ui"
	"github.com/sumbar-samsat/pkbkiosk/ui/webview"
)

// GTK and WebKit must be driven from the main OS thread, which webview_go
// locked in its init; tests run on other goroutines. So TestMain keeps the
// main goroutine and runs webview work sent to it (deps.md 4).
var mainJobs = make(chan func())

func onMain(f func()) {
	done := make(chan struct{})
	mainJobs <- func() { f(); close(done) }
	<-done
}

func TestMain(m *testing.M) {
	code := make(chan int)
	go func() { code <- m.Run() }()
	for {
		select {
		case f := <-mainJobs:
			f()
		case c := <-code:
			os.Exit(c)
		}
	}
}

// backend records what the page asked of the agent.
type backend struct {
	pings  chan struct{}
	plates chan string
}

func (b *backend) Status(context.Context) kiosk.Status { return kiosk.Status{Mode: kiosk.ModeReady} }
func (b *backend) Health(context.Context) kiosk.Health {
	return kiosk.Health{OK: true, Mode: kiosk.ModeReady}
}
func (b *backend) Plate(in string) (string, *kiosk.Error) {
	select {
	case b.plates <- in:
	default:
	}
	p, err := plate.Parse(in, nil)
	if err != nil {
		return "", plate.ContractError(err)
	}
	return p.String(), nil
}
func (b *backend) StartSession(context.Context) (string, error) { return "s1", nil }
func (b *backend) EndSession(context.Context) error             { return nil }
func (b *backend) Ping() {
	select {
	case b.pings <- struct{}{}:
	default:
	}
}
func (b *backend) Lookup(context.Context, kiosk.LookupRequest) (ui.LookupAnswer, *kiosk.Error) {
	return ui.LookupAnswer{}, &kiosk.Error{Code: kiosk.CodeSourceUnavailable}
}
func (b *backend) UIConfig() ui.UIConfig {
	return ui.UIConfig{Kiosk: "test-01", Office: "test", IdleS: 60, CountdownS: 15, PingS: 5,
		ClientTimeoutS: 8, RequireRangka5: true, Region: "BA"}
}
func (b *backend) Content(_ context.Context, lang string) (kiosk.LocalContent, error) {
	return kiosk.DefaultContent().Local(lang), nil
}

// Events sends the current state, as the agent does, then nothing until
// the page goes.
func (b *backend) Events(ctx context.Context) <-chan ui.Event {
	ch := make(chan ui.Event, 2)
	ch <- ui.Event{Name: "status", Data: kiosk.Status{Mode: kiosk.ModeReady}}
	ch <- ui.Event{Name: "maintenance", Data: ui.Maintenance{}}
	go func() {
		<-ctx.Done()
		close(ch)
	}()
	return ch
}
func (b *backend) Print(context.Context, string) (string, *kiosk.Error) {
	return "", &kiosk.Error{Code: kiosk.CodePrinterUnavailable}
}
func (b *backend) PrintJob(context.Context, string) (ui.PrintJob, bool) { return ui.PrintJob{}, false }

func TestNoDisplayIsAnErrorNotACrash(t *testing.T) {
	_, err := webview.Open(func(string) string { return "" }, webview.Opts{})
	if err != webview.ErrNoDisplay {
		t.Errorf("Open without a display = %v, want ErrNoDisplay", err)
	}
}

// TestPageRunsInWebView loads the real kiosk page in a real WebKit window
// and proves that its JavaScript ran and talked to Go: the page pings the
// agent on load, sends typed input for the live preview, and renders the
// canonical plate the Go side returned, which the test reads back through
// a bound Go function.
func TestPageRunsInWebView(t *testing.T) {
	if !webview.HasDisplay(os.Getenv) {
		t.Skip("no display: run under xvfb-run (make test does)")
	}
	b := &backend{pings: make(chan struct{}, 1), plates: make(chan string, 16)}
	srv := httptest.NewServer(ui.Handler(b, nil))
	defer func() {
		srv.CloseClientConnections() // the page's event stream
		srv.Close()
	}()

	preview := make(chan string, 16)
	var failure string
	onMain(func() {
		w, err := webview.Open(os.Getenv, webview.Opts{Title: "test", Width: 1024, Height: 768})
		if err != nil {
			failure = err.Error()
			return
		}
		defer w.Destroy()
		if err := w.Bind("reportPreview", func(s string) { preview <- s }); err != nil {
			failure = err.Error()
			return
		}
		result := make(chan string, 1)
		go func() {
			defer w.Terminate()
			result <- drive(w, b, preview)
		}()
		w.Navigate(srv.URL + "/")
		w.Run()
		failure = <-result
	})
	if failure != "" {
		t.Fatal(failure)
	}
}

func drive(w *webview.Window, b *backend, preview chan string) string {
	deadline := time.After(30 * time.Second)
	select {
	case <-b.pings:
	case <-deadline:
		return "the page never pinged the agent: its JavaScript did not run"
	}
	// The guided flow: wait for the welcome screen, tap Mulai, type.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for ready := false; !ready; {
		select {
		case got := <-preview:
			ready = got == "ready"
		case <-tick.C:
			w.Eval(`reportPreview(document.documentElement.dataset.ready==='1'?'ready':'')`)
		case <-deadline:
			return "the page never became ready (config and catalogues)"
		}
	}
	w.Eval(`document.getElementById('start').click()`)
	w.Eval(`(function(){var p=document.getElementById('plate');p.value='ba1o34qr';p.dispatchEvent(new Event('input',{bubbles:true}));})()`)
	for {
		select {
		case in := <-b.plates:
			if in != "ba1o34qr" && !strings.EqualFold(in, "BA1O34QR") {
				continue
			}
		case <-deadline:
			return "the page never asked the agent to normalise the typed plate"
		}
		break
	}
	for {
		select {
		case got := <-preview:
			if strings.Contains(got, "BA 1034 QR") {
				return ""
			}
		case <-tick.C:
			w.Eval(`reportPreview(document.getElementById('plate-preview').textContent)`)
		case <-deadline:
			return "the preview never showed the canonical plate BA 1034 QR"
		}
	}
}
