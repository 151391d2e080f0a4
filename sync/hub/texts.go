package hub

import (
	"fmt"
	"strings"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// Texts of incidents and alerts, in Bahasa Indonesia: they reach UPTD
// staff on their phones, so they say what happened, where, since when and
// what is expected, in one screen.

// Codes of incidents that are not kiosk fault codes.
const (
	CodeKioskOffline  = "kiosk.offline"
	CodeOfficeOffline = "office.offline"
)

// Causes of offline incidents.
const (
	CausePower   = "power"
	CauseNetwork = "network"
)

var faultTitles = map[string]string{
	"printer.paper_near_end": "Kertas printer hampir habis",
	"printer.paper_out":      "Kertas printer habis",
	"printer.cover_open":     "Tutup printer terbuka",
	"printer.offline":        "Printer offline",
	"printer.error":          "Printer error",
	"printer.missing":        "Printer tidak terhubung",
	"power.unclean_shutdown": "Kiosk mati tanpa shutdown (listrik padam?)",
	"power.on_battery":       "Listrik padam, kiosk memakai UPS",
	"power.battery_low":      "Baterai UPS hampir habis",
	"disk.low":               "Ruang disk hampir habis",
	"disk.full":              "Disk penuh",
	"store.incompatible":     "Basis data kiosk tidak cocok dengan versi program",
	"lookup.unreachable":     "Layanan info PKB tidak terjangkau",
	"ui.crashed":             "Tampilan kiosk mati berulang kali",
	"ui.unresponsive":        "Tampilan kiosk tidak merespons",
	"clock.skew":             "Jam kiosk tidak tepat",
	"security.lookup_burst":  "Pencarian beruntun yang mencurigakan",
}

// FaultTitle is the Bahasa Indonesia name of a fault code; an unknown code
// is shown as it is.
func FaultTitle(code string) string {
	if t, ok := faultTitles[code]; ok {
		return t
	}
	return code
}

// OfflineTitle names an offline incident by its cause.
func OfflineTitle(scope, cause string) string {
	switch {
	case scope == "office" && cause == CausePower:
		return "Gangguan listrik kantor: kiosk mati bersamaan"
	case scope == "office":
		return "Gangguan jaringan/listrik kantor"
	case cause == CausePower:
		return "Kiosk mati: listrik padam (UPS habis)"
	default:
		return "Kiosk tidak terhubung (jaringan atau PC mati)"
	}
}

// FormatWIB formats t for people: 23-11-2026 10:15 WIB.
func FormatWIB(t time.Time, tz *time.Location) string {
	if tz == nil {
		tz = time.FixedZone("WIB", 7*3600)
	}
	return t.In(tz).Format("02-01-2006 15:04") + " WIB"
}

// where says which kiosk(s) of which office.
func where(i hubapi.Incident) string {
	if i.Scope == "office" {
		return "UPTD " + i.Office
	}
	return i.Kiosk + " (UPTD " + i.Office + ")"
}

// OpenedAlert is the text of the alert for a new incident.
func OpenedAlert(i hubapi.Incident, total int, tz *time.Location) (subject, text string) {
	subject = fmt.Sprintf("[Kiosk PKB] GANGGUAN: %s — %s", i.Title, where(i))
	var b strings.Builder
	fmt.Fprintf(&b, "Insiden baru: %s\n", i.Title)
	if i.Scope == "office" {
		fmt.Fprintf(&b, "Kantor: UPTD %s — %d dari %d kiosk tidak terhubung bersamaan: %s\n",
			i.Office, len(i.Kiosks), total, strings.Join(i.Kiosks, ", "))
		b.WriteString("Ini satu insiden untuk seluruh kantor, bukan per kiosk: periksa dulu jaringan dan listrik kantor.\n")
	} else {
		fmt.Fprintf(&b, "Kiosk: %s\n", where(i))
	}
	fmt.Fprintf(&b, "Sejak: %s\n", FormatWIB(i.OpenedAt, tz))
	if i.Detail != "" {
		fmt.Fprintf(&b, "Keterangan: %s\n", i.Detail)
	}
	if !i.AckDue.IsZero() {
		fmt.Fprintf(&b, "Target: ditanggapi sebelum %s, selesai sebelum %s\n", FormatWIB(i.AckDue, tz), FormatWIB(i.ResolveDue, tz))
	}
	return subject, b.String()
}

// ResolvedAlert is the text of the alert when an incident is resolved.
func ResolvedAlert(i hubapi.Incident, tz *time.Location) (subject, text string) {
	subject = fmt.Sprintf("[Kiosk PKB] PULIH: %s — %s", i.Title, where(i))
	var b strings.Builder
	fmt.Fprintf(&b, "Insiden selesai: %s\n", i.Title)
	fmt.Fprintf(&b, "Tempat: %s\n", where(i))
	fmt.Fprintf(&b, "Terjadi: %s, selesai: %s\n", FormatWIB(i.OpenedAt, tz), FormatWIB(i.ResolvedAt, tz))
	if i.ResolvedBy == ByHub {
		b.WriteString("Diselesaikan otomatis: ")
	} else if i.ResolvedBy != "" {
		fmt.Fprintf(&b, "Diselesaikan oleh %s: ", i.ResolvedBy)
	}
	b.WriteString(i.Note + "\n")
	return subject, b.String()
}

// ReminderAlert is the text of the reminder for an overdue incident.
func ReminderAlert(i hubapi.Incident, what string, tz *time.Location) (subject, text string) {
	subject = fmt.Sprintf("[Kiosk PKB] PENGINGAT: %s — %s", i.Title, where(i))
	var b strings.Builder
	switch what {
	case "ack":
		fmt.Fprintf(&b, "Insiden belum ditanggapi melewati target (%s).\n", FormatWIB(i.AckDue, tz))
	default:
		fmt.Fprintf(&b, "Insiden belum selesai melewati target (%s).\n", FormatWIB(i.ResolveDue, tz))
	}
	fmt.Fprintf(&b, "Insiden: %s\nTempat: %s\nSejak: %s\n", i.Title, where(i), FormatWIB(i.OpenedAt, tz))
	if i.AckedBy != "" {
		fmt.Fprintf(&b, "Ditanggapi oleh: %s\n", i.AckedBy)
	}
	return subject, b.String()
}

// AliveAlert is the daily message that the hub is alive.
func AliveAlert(day time.Time, online, late, offline, active, overdue int, tz *time.Location) (subject, text string) {
	d := day.In(tz).Format("02-01-2006")
	subject = "[Kiosk PKB] Hub aktif — " + d
	text = fmt.Sprintf("Pesan harian: hub pemantau kiosk PKB berjalan (%s).\n"+
		"Kiosk online: %d, terlambat: %d, offline: %d.\nInsiden terbuka: %d, melewati target: %d.\n"+
		"Jika pesan ini tidak datang besok pagi, periksa hub.\n", FormatWIB(day, tz), online, late, offline, active, overdue)
	return subject, text
}
