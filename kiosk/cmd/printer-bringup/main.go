// Command printer-bringup opens a real receipt printer, reads its status
// and model, prints a test page and records every byte exchanged as a
// transcript: the raw material of firmware-notes/ and of the playback
// tests for a new model (firmware-notes/README.md).
//
//	printer-bringup --printer serial:/dev/ttyUSB0 --model "Epson TM-T20III" --firmware 1.02 \
//	    --source "serial 9600 8N1, bench PC" --out firmware-notes/epson-tm-t20iii/1.02/captures/first.txt
//
// Exit codes: 0 done, 1 the printer failed, 2 usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
	"github.com/sumbar-samsat/pkbkiosk/printer"
	"github.com/sumbar-samsat/pkbkiosk/printer/escpos"
	"github.com/sumbar-samsat/pkbkiosk/printer/printerdev"
	"github.com/sumbar-samsat/pkbkiosk/printer/printertest"
	"github.com/sumbar-samsat/pkbkiosk/printer/slip"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "printer-bringup:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("printer-bringup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	spec := fs.String("printer", "", "the printer: usb[:VID:PID] | serial:PATH[?baud=N] | tcp:HOST:PORT (required)")
	out := fs.String("out", "", "transcript file to write (required)")
	model := fs.String("model", "", "vendor and model as on the label, e.g. \"Epson TM-T20III\" (required)")
	firmware := fs.String("firmware", "", "firmware version as the self-test page prints it (required)")
	source := fs.String("source", "", "who captured it and how: transport, settings, machine (required)")
	cols := fs.Int("columns", 42, "Font A columns of the printer: 32, 36, 42 or 48")
	noPrint := fs.Bool("status-only", false, "read status and model only, print nothing")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	var missing []string
	for name, v := range map[string]string{"--printer": *spec, "--out": *out, "--model": *model, "--firmware": *firmware, "--source": *source} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "printer-bringup: missing %s (the transcript header must say what was captured, and how)\n", strings.Join(missing, ", "))
		return errUsage
	}
	sp, err := printerdev.ParseSpec(*spec)
	if err != nil || sp.Kind == "none" {
		fmt.Fprintf(stderr, "printer-bringup: --printer %q: %v\n", *spec, cmpErr(err, "need a real printer"))
		return errUsage
	}
	port, err := printerdev.Open(ctx, sp)
	if err != nil {
		return err
	}
	defer port.Close()
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	rec := &printertest.Record{Port: port, Transcript: f, Header: printertest.Header{
		Model: *model, Firmware: *firmware, Date: time.Now().Format(time.DateOnly), Source: *source,
	}}
	opts := &printer.Opts{}
	if c, ok := port.(printer.USBClass); ok {
		opts.Class = c
		if id, err := c.DeviceID(); err == nil {
			fmt.Fprintf(stdout, "USB device ID: %s\n", id)
		}
	}
	dev := printer.New(rec, opts)

	st, err := dev.Status(ctx)
	fmt.Fprintf(stdout, "status: %+v (err: %v)\n", st, err)
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("printer gone: %w", err)
	}
	name, err := dev.Model(ctx)
	fmt.Fprintf(stdout, "model: %q (err: %v)\n", name, err)
	if !*noPrint {
		page, err := testPage(*cols, *model, *firmware)
		if err != nil {
			return err
		}
		if err := dev.Print(ctx, page); err != nil {
			return fmt.Errorf("test page: %w", err)
		}
		fmt.Fprintln(stdout, "test page printed")
		st, err = dev.Status(ctx)
		fmt.Fprintf(stdout, "status after: %+v (err: %v)\n", st, err)
	}
	if err := rec.Err(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "transcript: %s\n", *out)
	return f.Close()
}

// testPage is a ruler for the column count, the character set the slip
// uses, and a sample slip with made-up data.
func testPage(cols int, model, firmware string) ([]byte, error) {
	b := new(escpos.Builder).Init().CodePage(0)
	b.Line("PRINTER BRING-UP").Line(model + " / " + firmware).Line(time.Now().Format("2006-01-02 15:04"))
	for _, c := range []int{32, 36, 42, 48} {
		if c > cols {
			break
		}
		b.Line(ruler(c))
	}
	b.Line("ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,-:/()")
	at := time.Now()
	sample := pkb.Result{
		Nopol:        "BA 1234 XX",
		Kendaraan:    pkb.Kendaraan{Merk: "CONTOH", Tipe: "BRING-UP", Tahun: "2024", Warna: "HITAM", WarnaTNKB: "PUTIH"},
		TglAkhirPKB:  pkb.DateOf(at),
		TglAkhirSTNK: pkb.DateOf(at),
		Status:       pkb.Status{Keterangan: "CONTOH"},
		Rincian:      pkb.Rincian{PKB: pkb.Item{Pokok: 150000}, OpsenPKB: &pkb.Item{Pokok: 99000}, SWDKLLJ: pkb.Item{Pokok: 35000}},
		Jumlah:       284000,
		DihitungPada: at,
		Sumber:       "DEMO",
	}
	lines, err := slip.Render(sample, slip.Options{Columns: cols, Office: "BRING-UP"})
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		b.Line(l)
	}
	b.Cut(true, 4)
	return b.Bytes()
}

func ruler(n int) string {
	var s strings.Builder
	for i := 1; i <= n; i++ {
		if i%10 == 0 {
			s.WriteByte('0' + byte(i/10%10))
		} else {
			s.WriteByte('.')
		}
	}
	return s.String()
}

func cmpErr(err error, def string) string {
	if err != nil {
		return err.Error()
	}
	return def
}
