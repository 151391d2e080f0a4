// Package webview is the thin cgo wrapper around webview_go (WebKitGTK) that
// kioskui uses to show the agent's page; nothing else in the product links
// a GUI toolkit.
//
// All calls must come from the main goroutine: webview_go locks it to the
// main OS thread in its init, and GTK may only be driven from there.
package webview

/*
#cgo linux pkg-config: gtk+-3.0
#include <gtk/gtk.h>

static void kiosk_fullscreen(void *w) { gtk_window_fullscreen(GTK_WINDOW(w)); }
*/
import "C"

import (
	"errors"

	webview "github.com/webview/webview_go"
)

// Opts configure the window.
type Opts struct {
	Title      string
	Width      int // default 1080
	Height     int // default 1920
	Fullscreen bool
}

// ErrNoDisplay is returned when neither DISPLAY nor WAYLAND_DISPLAY is set:
// webview_go would otherwise hand out a NULL window and crash on first use
// (deps.md 4).
var ErrNoDisplay = errors.New("webview: no display (DISPLAY and WAYLAND_DISPLAY are unset)")

// HasDisplay reports whether a graphical display is configured.
func HasDisplay(getenv func(string) string) bool {
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

// Window is an open webview window.
type Window struct{ w webview.WebView }

// Open creates the window. Developer tools stay off: a taxpayer must not
// be able to inspect or change the page.
func Open(getenv func(string) string, o Opts) (*Window, error) {
	if !HasDisplay(getenv) {
		return nil, ErrNoDisplay
	}
	if o.Width == 0 {
		o.Width = 1080
	}
	if o.Height == 0 {
		o.Height = 1920
	}
	w := webview.New(false)
	if w == nil || w.Window() == nil {
		return nil, errors.New("webview: could not create a window (is the display reachable?)")
	}
	w.SetTitle(o.Title)
	w.SetSize(o.Width, o.Height, webview.HintNone)
	if o.Fullscreen {
		C.kiosk_fullscreen(w.Window())
	}
	return &Window{w: w}, nil
}

// Navigate loads url.
func (w *Window) Navigate(url string) { w.w.Navigate(url) }

// Bind exposes a Go function to the page as window.<name>, returning a
// Promise there.
func (w *Window) Bind(name string, f any) error { return w.w.Bind(name, f) }

// Eval runs JavaScript in the page; safe from any goroutine.
func (w *Window) Eval(js string) { w.w.Dispatch(func() { w.w.Eval(js) }) }

// Run runs the event loop until Terminate or the window is closed.
func (w *Window) Run() { w.w.Run() }

// Terminate ends Run; safe from any goroutine.
func (w *Window) Terminate() { w.w.Dispatch(w.w.Terminate) }

// Destroy releases the window.
func (w *Window) Destroy() { w.w.Destroy() }
