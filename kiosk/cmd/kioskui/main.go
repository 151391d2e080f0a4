// Command kioskui shows the kiosk agent's page in a WebKit window. It is
// deliberately thin: kioskd supervises it and restarts it when it exits, so
// a crash of the GUI never stops printing, caching or reporting.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/sumbar-samsat/pkbkiosk/ui/webview"
)

func main() {
	fs := flag.NewFlagSet("kioskui", flag.ContinueOnError)
	u := fs.String("url", "", "page to show, normally the agent's http://127.0.0.1:8321/ (required)")
	full := fs.Bool("fullscreen", false, "full-screen window (kiosk PCs)")
	width := fs.Int("width", 1080, "window width when not full-screen")
	height := fs.Int("height", 1920, "window height when not full-screen")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	pu, err := url.Parse(*u)
	if *u == "" || err != nil || (pu.Scheme != "http" && pu.Scheme != "https") {
		fmt.Fprintln(os.Stderr, "kioskui: --url must be an http(s) URL, e.g. --url http://127.0.0.1:8321/")
		os.Exit(2)
	}
	w, err := webview.Open(os.Getenv, webview.Opts{Title: "Info PKB", Width: *width, Height: *height, Fullscreen: *full})
	if errors.Is(err, webview.ErrNoDisplay) {
		fmt.Fprintln(os.Stderr, "kioskui:", err)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kioskui:", err)
		os.Exit(1)
	}
	// SIGTERM from the supervisor closes the window cleanly. SIGUSR1 is left
	// alone: JavaScriptCore uses it (deps.md 4).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		w.Terminate()
	}()
	w.Navigate(pu.String())
	w.Run()
	w.Destroy()
}
