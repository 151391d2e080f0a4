package dashboard

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// csvLimit is the most incidents one export holds (the Backend's cap).
const csvLimit = 5000

// csvHeader names the export's columns, in Bahasa Indonesia for the
// monthly report. Times are in the dashboard's zone; durations are
// minutes of working time as the hub counts them.
var csvHeader = []string{
	"id", "kantor", "kiosk", "kode", "jenis", "tingkat", "penyebab", "judul", "status",
	"dibuka", "diakui_pada", "diakui_oleh", "selesai_pada", "diselesaikan_oleh",
	"menit_sampai_diakui", "menit_sampai_selesai", "batas_akui", "batas_selesai",
	"lewat_batas_akui", "lewat_batas_selesai", "catatan",
}

// incidentsCSV serves /incidents.csv with the filters of /incidents.
func (d *Dashboard) incidentsCSV(w http.ResponseWriter, r *http.Request, v *viewer) {
	q, from, to, ok := d.incidentFilter(w, r, v)
	if !ok {
		return
	}
	q.Limit = csvLimit
	incs, err := d.incidents(r.Context(), v, q)
	if err != nil {
		d.backendFailed(w, r, v, "incidents", err)
		return
	}
	var buf bytes.Buffer
	if err := writeIncidentsCSV(&buf, incs, d.cfg.TZ); err != nil {
		d.cfg.Log.Error("dashboard: csv", "err", err)
		http.Error(w, "Kesalahan internal", http.StatusInternalServerError)
		return
	}
	name := "insiden-" + d.now().In(d.cfg.TZ).Format("20060102")
	if from != "" || to != "" {
		name = "insiden-" + from + "_" + to
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFilename(name)+`.csv"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

func writeIncidentsCSV(buf *bytes.Buffer, incs []hubapi.Incident, tz *time.Location) error {
	cw := csv.NewWriter(buf)
	cw.UseCRLF = true // RFC 4180, and what spreadsheet programs expect
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("dashboard: write csv: %w", err)
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(tz).Format(time.DateTime)
	}
	mins := func(s int64, done time.Time) string {
		if done.IsZero() {
			return ""
		}
		return strconv.FormatInt((s+30)/60, 10)
	}
	yn := func(b bool) string {
		if b {
			return "ya"
		}
		return "tidak"
	}
	for _, i := range incs {
		rec := []string{
			i.ID, i.Office, i.Kiosk, i.Code, faultLabel(i.Code), i.Severity, i.Cause, i.Title, i.State,
			ts(i.OpenedAt), ts(i.AckedAt), i.AckedBy, ts(i.ResolvedAt), i.ResolvedBy,
			mins(i.TimeToAckS, i.AckedAt), mins(i.TimeToResolveS, i.ResolvedAt), ts(i.AckDue), ts(i.ResolveDue),
			yn(i.AckOverdue), yn(i.ResolveOverdue), i.Note,
		}
		for j := range rec {
			rec[j] = csvSafe(rec[j])
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("dashboard: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("dashboard: write csv: %w", err)
	}
	return nil
}

// csvSafe defuses CSV formula injection (OWASP): a spreadsheet runs a
// cell starting with = + - @ (or tab, CR) as a formula, and notes,
// titles and details come partly from kiosks and users. A leading quote
// makes it text. No numeric column of the export can be negative, so no
// number is changed.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// safeFilename keeps a download name to harmless characters.
func safeFilename(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
