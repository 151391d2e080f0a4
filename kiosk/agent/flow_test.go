package agent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/printer/printersim"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
)

// typePlate goes from the welcome screen to a valid plate preview.
func (b *browser) typePlate(typed string) {
	b.t.Helper()
	b.waitScreen("plate")
	b.click(`button[data-key="CLEAR"]`)
	b.keys(typed)
}

// plateDigits is the part of a canonical plate typed after the default
// region chip "BA".
func plateDigits(p string) string { return strings.TrimPrefix(strings.ReplaceAll(p, " ", ""), "BA") }

// TestBrowserWholeFlow: welcome → Mulai → plate on the on-screen keyboard
// → chassis step → Cari → result with every item → Selesai → welcome, in
// headless Chromium against a real agent and hub, with screenshots.
func TestBrowserWholeFlow(t *testing.T) {
	e := newEnv(t)
	v := e.sample(sample.LateOverYear)
	b := newBrowser(t, e)

	b.waitScreen("welcome")
	b.shot("01-welcome")
	b.click("#start")
	var st map[string]any
	e.get("/api/status", &st)
	if st["mode"] != "session" {
		t.Errorf("after Mulai the agent's mode is %v, want session", st["mode"])
	}
	b.typePlate(plateDigits(v.Plate))
	b.do()
	waitText(t, b, "#plate-preview", v.Plate)
	b.shot("02-plate")
	b.click("#plate-next")
	b.waitScreen("rangka")
	if b.str(`document.querySelector('#stnk-picture') ? 'yes' : 'no'`) != "yes" {
		t.Error("the chassis step has no picture of the STNK")
	}
	b.keys(v.Rangka5)
	b.shot("03-rangka")
	b.click("#search")
	b.waitScreen("result")
	b.shot("04-result")

	if got := b.text("#result-plate"); got != v.Plate {
		t.Errorf("result plate = %q, want %q", got, v.Plate)
	}
	for _, item := range []string{"pkb", "opsen_pkb", "swdkllj", "pnbp_stnk", "pnbp_tnkb"} {
		if b.str(`document.querySelector('#items tr[data-item="`+item+`"]') ? 'yes' : 'no'`) != "yes" {
			t.Errorf("result has no %s row", item)
		}
	}
	if j := b.text("#jumlah"); !strings.HasPrefix(j, "Rp ") || !strings.Contains(j, ".") {
		t.Errorf("JUMLAH = %q, want Rp with . thousands", j)
	}
	if dp := b.text("#data-per"); !strings.Contains(dp, "WIB") {
		t.Errorf("data per = %q, want a WIB time", dp)
	}
	if nr := b.text("#not-receipt"); nr == "" {
		t.Error("no 'bukan bukti pembayaran' on the result")
	}
	if b.text("#how-to-pay") == "" {
		t.Error("no 'how to pay' on the result")
	}
	page := b.str(`document.body.innerText`)
	if strings.Contains(page, v.Rangka5) {
		t.Error("the chassis characters are shown back on the result screen")
	}

	b.click("#finish")
	b.waitScreen("welcome")
	e.get("/api/status", &st)
	if st["mode"] != "ready" {
		t.Errorf("after Selesai the agent's mode is %v, want ready", st["mode"])
	}
	if strings.Contains(b.str(`document.body.innerText`), v.Plate) {
		t.Error("the plate is still in the page after Selesai")
	}
}

// waitText waits until the element's text contains want.
func waitText(t *testing.T, b *browser, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := b.str(`(function(){var e=document.querySelector(` + jsString(sel) + `);return e?e.textContent:''})()`)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s shows %q, want %q", sel, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// TestBrowserKeyboardAndRejections: the on-screen keyboard types, deletes
// and clears; O/I between digits become 0/1 in the preview; every rejected
// input shows its own message with an example of a valid plate.
func TestBrowserKeyboardAndRejections(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.click("#start")
	b.typePlate("1O34QR")
	waitText(t, b, "#plate-preview", "BA 1034 QR")
	b.click(`button[data-key="BACKSPACE"]`)
	waitText(t, b, "#plate-preview", "BA 1034 Q")
	b.click(`button[data-key="CLEAR"]`)
	if got := b.str(`document.getElementById('plate').value`); got != "" {
		t.Errorf("after CLEAR the plate field holds %q", got)
	}

	seen := map[string]string{}
	for _, tt := range []struct{ js, reason string }{
		// Typed with the physical keyboard into the field, as a full plate.
		{"BA 0000 QR", "BAD_NUMBER"},
		{"BA 1234 ABCD", "BAD_SERIES"},
		{"BA 1234 XY", "SPECIAL_PLATE"},
		{"QQ 1234 AB", "BAD_REGION"},
		{"BK 1234 AB", "OTHER_REGION"},
		{"BAA 1234 QR", "BAD_FORMAT"},
	} {
		b.setPlateField(tt.js)
		waitAttr(t, b, "#plate-error", "data-reason", tt.reason)
		msg := b.text("#plate-error")
		if msg == "" || !strings.Contains(msg, "BA 1234 QR") && tt.reason != "OTHER_REGION" {
			t.Errorf("%s message %q: want a message with an example of a valid plate", tt.reason, msg)
		}
		if tt.reason == "OTHER_REGION" && !strings.Contains(msg, "Sumatera Utara") {
			t.Errorf("OTHER_REGION message %q does not name the province", msg)
		}
		for r, m := range seen {
			if m == msg {
				t.Errorf("%s and %s show the same message %q", r, tt.reason, msg)
			}
		}
		seen[tt.reason] = msg
		if b.str(`document.getElementById('plate-next').disabled ? 'yes' : 'no'`) != "yes" {
			t.Errorf("%s: the next button is enabled for a rejected plate", tt.reason)
		}
	}
	b.shot("05-plate-rejected")
}

// setPlateField types s into the plate field as a physical keyboard would.
func (b *browser) setPlateField(s string) {
	b.t.Helper()
	b.str(`(function(){var p=document.getElementById('plate');p.focus();p.value=` + jsString(s) + `;p.dispatchEvent(new Event('input',{bubbles:true}));return ''})()`)
}

func waitAttr(t *testing.T, b *browser, sel, attr, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := b.str(`(function(){var e=document.querySelector(` + jsString(sel) + `);return e?(e.getAttribute(` + jsString(attr) + `)||''):''})()`)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s[%s] = %q, want %q", sel, attr, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserIdleResetClearsEverything: after the idle time a countdown is
// shown, then the screen returns to welcome with nothing of the previous
// taxpayer left in the DOM, storage or history, and the agent's session is
// gone.
func TestBrowserIdleResetClearsEverything(t *testing.T) {
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
		a.Idle, a.Countdown = 3*time.Second, 3*time.Second
	})
	v := e.sample(sample.Paid)
	b := newBrowser(t, e)
	b.click("#start")
	b.typePlate(plateDigits(v.Plate))
	waitText(t, b, "#plate-preview", v.Plate)
	b.click("#plate-next")
	b.keys(v.Rangka5)
	b.click("#search")
	b.waitScreen("result")
	histBefore := eval[float64](b, `history.length`)

	b.do()
	b.waitVisible("#countdown")
	b.shot("06-countdown")
	b.waitScreen("welcome")
	body := b.str(`document.body.innerText + document.body.innerHTML`)
	for _, secret := range []string{v.Plate, plateDigits(v.Plate), v.Rangka5} {
		if strings.Contains(body, secret) {
			t.Errorf("after the reset the DOM still contains %q", secret)
		}
	}
	if got := b.str(`document.getElementById('plate').value + '|' + document.getElementById('rangka').value`); got != "|" {
		t.Errorf("after the reset the fields hold %q", got)
	}
	storage := b.str(`[localStorage.length, sessionStorage.length, document.cookie].join('|')`)
	if storage != "0|0|" {
		t.Errorf("storage after reset = %q, want 0|0| (nothing kept)", storage)
	}
	if h := eval[float64](b, `history.length`); h > histBefore {
		t.Errorf("history grew from %v to %v: the back button could bring the taxpayer back", histBefore, h)
	}
	var st map[string]any
	e.get("/api/status", &st)
	if st["mode"] != "ready" {
		t.Errorf("agent mode after the reset = %v, want ready (session dropped)", st["mode"])
	}
}

func (b *browser) waitVisible(sel string) {
	b.t.Helper()
	b.do(waitVisibleAction(sel))
}

// TestBrowserHubDown: with the hub stopped a plate seen before comes from
// the cache with its age; a new plate gets the unavailable screen at once.
func TestBrowserHubDown(t *testing.T) {
	e := newEnv(t)
	seen := e.sample(sample.Late)
	if code, m := e.lookup(seen.Plate, seen.Rangka5); code != 200 {
		t.Fatalf("warm-up lookup = %d %v", code, m)
	}
	e.waitCached(1)
	e.stopHub()
	e.waitBus(false)
	e.clk.Add(25 * time.Hour) // tomorrow: stale

	b := newBrowser(t, e)
	b.click("#start")
	b.typePlate(plateDigits(seen.Plate))
	waitText(t, b, "#plate-preview", seen.Plate)
	b.click("#plate-next")
	b.keys(seen.Rangka5)
	b.click("#search")
	b.waitScreen("result")
	if age := b.text("#cache-age"); age == "" {
		t.Error("a cached result has no age label")
	}
	if b.text("#stale") == "" {
		t.Error("a result from yesterday has no stale warning")
	}
	b.shot("07-result-cached-stale")

	other := e.sample(sample.Paid)
	b.click("#finish")
	b.click("#start")
	b.typePlate(plateDigits(other.Plate))
	waitText(t, b, "#plate-preview", other.Plate)
	b.click("#plate-next")
	b.keys(other.Rangka5)
	b.click("#search")
	b.waitScreen("unavailable")
	b.shot("08-unavailable")
}

// TestBrowserMaintenance: the office switches the kiosk to maintenance; the
// screen shows the office's message at once, and returns when it ends.
func TestBrowserMaintenance(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.click("#start")
	msg := "Kios sedang dalam perbaikan. Silakan ke loket informasi."
	if err := e.agent.SetMaintenance(t.Context(), true, msg); err != nil {
		t.Fatal(err)
	}
	b.waitScreen("maintenance")
	if got := b.text("#maintenance-message"); got != msg {
		t.Errorf("maintenance message = %q, want %q", got, msg)
	}
	b.shot("09-maintenance")
	if err := e.agent.SetMaintenance(t.Context(), false, ""); err != nil {
		t.Fatal(err)
	}
	b.waitScreen("welcome")
}

// TestBrowserLanguageAndHelp: the toggle switches every string to English
// and back; the help and information pages come from the agent's content.
func TestBrowserLanguageAndHelp(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	idText := b.text("#start")
	b.click("#lang-toggle")
	waitAttr(t, b, "html", "lang", "en")
	enText := b.text("#start")
	if idText == enText || enText == "" {
		t.Errorf("Mulai button: id %q, en %q; want a translation", idText, enText)
	}
	b.shot("10-welcome-en")
	b.click("#help-open")
	b.waitScreen("help")
	if got := b.str(`document.body.innerText`); !strings.Contains(got, "How to use this kiosk") {
		t.Error("the English help page does not show the content's English title")
	}
	b.shot("11-help-en")
	b.click("#lang-toggle")
	waitAttr(t, b, "html", "lang", "id")
	if got := b.str(`document.body.innerText`); !strings.Contains(got, "Cara menggunakan kios ini") {
		t.Error("the Indonesian help page does not show the content's title")
	}
	b.click("#back")
	b.waitScreen("welcome")
	b.click("#info-open-pembayaran")
	b.waitScreen("info")
	if got := b.str(`document.body.dataset.page`); got != "pembayaran" {
		t.Errorf("info page = %q, want pembayaran", got)
	}
	if got := b.str(`document.body.innerText`); !strings.Contains(got, "diperbarui") && !strings.Contains(got, "Diperbarui") {
		t.Error("the information page does not show its date (diperbarui)")
	}
	b.shot("12-info-pembayaran")
}

// TestBrowserPrint: "Cetak" is disabled, with the reason, while the
// printer (a printersim on a real pty) has no paper; with paper it prints
// the slip and says so.
func TestBrowserPrint(t *testing.T) {
	e := newSimEnv(t, "serial")
	v := e.sample(sample.Late)
	if err := e.sim.SetState(printersim.State{Paper: "out"}); err != nil {
		t.Fatal(err)
	}
	e.waitPrinter(func(p printerStatus) bool { return p.Paper == "out" })
	b := newBrowser(t, e.env)
	b.click("#start")
	b.typePlate(plateDigits(v.Plate))
	waitText(t, b, "#plate-preview", v.Plate)
	b.click("#plate-next")
	b.keys(v.Rangka5)
	b.click("#search")
	b.waitScreen("result")
	b.do(waitVisibleAction(`#print[disabled]`))
	if reason := b.text("#print-reason"); !strings.Contains(strings.ToLower(reason), "kertas") {
		t.Errorf("print reason = %q, want the paper-out message", reason)
	}
	b.shot("13-result-no-paper")

	if err := e.sim.SetState(printersim.State{Paper: "ok"}); err != nil {
		t.Fatal(err)
	}
	b.do(waitVisibleAction(`#print:not([disabled])`))
	b.click("#print")
	waitAttr(t, b, "#print-status", "data-state", "done")
	b.shot("14-result-printed")
	if out := e.sim.Output(); !strings.Contains(out, v.Plate) || !strings.Contains(out, "JUMLAH") {
		t.Errorf("the printer got no slip:\n%s", out)
	}
}
