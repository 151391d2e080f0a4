package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sumbar-samsat/pkbkiosk/printer/printersim"
	"github.com/sumbar-samsat/pkbkiosk/printer/printertest"
)

// TestBringUpRecordsTranscript runs the bring-up against printersim on a
// real pty and checks that the transcript it writes plays back.
func TestBringUpRecordsTranscript(t *testing.T) {
	dir := t.TempDir()
	sim, err := printersim.Start(printersim.Config{PTY: filepath.Join(dir, "printer0"), Model: "epson"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	out := filepath.Join(dir, "notes", "captures", "first.txt")
	var so, se bytes.Buffer
	err = run(t.Context(), []string{"--printer", "serial:" + sim.PTYLink(), "--out", out, "--model", "printersim epson",
		"--firmware", "n/a", "--source", "printersim on a pty, test", "--columns", "42"}, &so, &se)
	if err != nil {
		t.Fatalf("bring-up: %v\n%s%s", err, so.String(), se.String())
	}
	if !strings.Contains(sim.Output(), "PRINTER BRING-UP") || !strings.Contains(sim.Output(), "--- CUT ---") {
		t.Errorf("test page not printed:\n%s", sim.Output())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ops, h, err := printertest.LoadTranscript(f)
	if err != nil {
		t.Fatalf("the transcript does not load: %v", err)
	}
	if h.Model != "printersim epson" || h.Source == "" || len(ops) < 4 {
		t.Errorf("transcript header %+v with %d ops; want the given header and the status exchanges", h, len(ops))
	}
}

func TestBringUpUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--printer", "serial:/dev/null", "--out", "x"}, // header fields missing
		{"--printer", "none", "--out", "x", "--model", "m", "--firmware", "f", "--source", "s"},
	} {
		var so, se bytes.Buffer
		if err := run(t.Context(), args, &so, &se); err != errUsage || se.Len() == 0 {
			t.Errorf("printer-bringup %q = %v, stderr %q; want a usage error with a message", args, err, se.String())
		}
	}
}
