package agent_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is a headless Chromium (Debian's package) driven over the
// DevTools protocol, looking at the agent's real page.
type browser struct {
	t   testing.TB
	ctx context.Context
	e   *env
}

func chromiumPath(t testing.TB) string {
	for _, p := range []string{os.Getenv("KIOSK_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Skip("no chromium: make deps installs Debian's chromium package")
	return ""
}

// headlessChromium starts a headless Chromium with a window of w x h
// (stopped at the end of the test) and returns its context.
func headlessChromium(t testing.TB, w, h int) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // root in CI
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(w, h),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	return ctx
}

// newBrowser opens the kiosk page of e in a portrait 1080x1920 window and
// waits until the page says it is ready.
func newBrowser(t testing.TB, e *env) *browser {
	t.Helper()
	b := &browser{t: t, ctx: headlessChromium(t, 1080, 1920), e: e}
	// The first Run starts the browser and must not carry a timeout: the
	// browser lives as long as the context of that call.
	// The kiosk's touchscreen: 1080x1920 portrait, touch input.
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(1080, 1920, chromedp.EmulatePortrait, chromedp.EmulateTouch),
		chromedp.Navigate(e.base+"/")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	b.do(chromedp.WaitVisible(chromedp.CSS(`html[data-ready="1"]`)))
	return b
}

// do runs steps with a deadline, failing the test on error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("browser: eval %s: %v", js, err)
	}
	return v
}

func (b *browser) str(js string) string {
	b.t.Helper()
	return eval[string](b, js)
}

func (b *browser) screen() string { return b.str(`document.body.dataset.screen || ""`) }

// waitScreen waits until the visible screen is name.
func (b *browser) waitScreen(name string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`body[data-screen=%q]`, name))))
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// keys taps the on-screen keyboard keys of s on the visible screen.
func (b *browser) keys(s string) {
	b.t.Helper()
	for _, r := range strings.ToUpper(s) {
		if r == ' ' {
			continue
		}
		b.click(fmt.Sprintf(`section:not([hidden]) button[data-key=%q]`, string(r)))
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// shot writes a PNG of the window for review: $KIOSK_SCREENSHOTS, or
// .build/screenshots at the module root.
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("KIOSK_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", ".build", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func waitVisibleAction(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}
