//go:build linux

package printersim_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
	"github.com/sumbar-samsat/pkbkiosk/printer"
	"github.com/sumbar-samsat/pkbkiosk/printer/escpos"
	"github.com/sumbar-samsat/pkbkiosk/printer/printerdev"
	"github.com/sumbar-samsat/pkbkiosk/printer/printersim"
	"github.com/sumbar-samsat/pkbkiosk/printer/slip"
)

// openSerial starts the simulator and opens it the way the kiosk does:
// printerdev's serial transport (tarm/serial) on the pty.
func openSerial(b *testing.B) (*printersim.Sim, *printer.Dev) {
	sim, err := printersim.Start(printersim.Config{PTY: filepath.Join(b.TempDir(), "printer0"), Model: "epson"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sim.Close() })
	port, err := printerdev.Open(b.Context(), printerdev.Spec{Kind: "serial", Path: sim.PTYLink(), Baud: 9600})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { port.Close() })
	return sim, printer.New(port, &printer.Opts{NearEndSensor: new(true)})
}

func reportQuantiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}

// BenchmarkStatusPTY: one full status poll (DLE EOT 1..4, each answered)
// over a real pseudo-terminal through tarm/serial.
func BenchmarkStatusPTY(b *testing.B) {
	_, dev := openSerial(b)
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		st, err := dev.Status(b.Context())
		lat = append(lat, time.Since(t0))
		if err != nil || st.Paper != printer.PaperOK {
			b.Fatalf("status = %+v, %v", st, err)
		}
	}
	reportQuantiles(b, lat)
}

// BenchmarkSlipPTY: render a 42-column slip, encode it as ESC/POS and
// send it with the driver's status checks, over the pty.
func BenchmarkSlipPTY(b *testing.B) {
	sim, dev := openSerial(b)
	at := time.Date(2025, 5, 20, 9, 15, 0, 0, time.FixedZone("WIB", 7*3600))
	r := pkb.Result{Nopol: "BA 3456 QR", Kendaraan: pkb.Kendaraan{Merk: "HONDA", Tipe: "BEAT", Tahun: "2021", Warna: "HITAM", WarnaTNKB: "PUTIH"},
		TglAkhirPKB: pkb.NewDate(2025, 3, 10), TglAkhirSTNK: pkb.NewDate(2026, 3, 10), Status: pkb.Status{Keterangan: "BELUM BAYAR"},
		Rincian: pkb.Rincian{PKB: pkb.Item{Pokok: 150000, Denda: 4500}, OpsenPKB: &pkb.Item{Pokok: 99000, Denda: 2970}, SWDKLLJ: pkb.Item{Pokok: 35000, Denda: 8000}},
		Jumlah:  299470, DihitungPada: at, Sumber: "BAPENDA"}
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		lines, err := slip.Render(r, slip.Options{Columns: 42, Office: "UPTD PPD PADANG"})
		if err != nil {
			b.Fatal(err)
		}
		bl := new(escpos.Builder).Init()
		for _, l := range lines {
			bl.Line(l)
		}
		data, err := bl.Cut(true, 4).Bytes()
		if err != nil {
			b.Fatal(err)
		}
		if err := dev.Print(b.Context(), data); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		sim.ResetOutput()
	}
	reportQuantiles(b, lat)
}
