package dashboard

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// Labels in Bahasa Indonesia. Unknown codes are shown as they are, so a
// new fault code from a newer agent is still visible.
var (
	faultLabels = map[string]string{
		"printer.paper_near_end": "Kertas printer hampir habis",
		"printer.paper_out":      "Kertas printer habis",
		"printer.cover_open":     "Tutup printer terbuka",
		"printer.offline":        "Printer offline",
		"printer.error":          "Printer error",
		"printer.missing":        "Printer tidak terdeteksi",
		"ui.crashed":             "Layar kiosk berhenti mendadak",
		"ui.unresponsive":        "Layar kiosk tidak merespons",
		"security.lookup_burst":  "Pencarian beruntun mencurigakan",
		"power.unclean_shutdown": "Mati tidak wajar (listrik padam?)",
		"power.on_battery":       "Berjalan dengan baterai (UPS)",
		"power.battery_low":      "Baterai UPS hampir habis",
		"disk.low":               "Ruang disk hampir penuh",
		"disk.full":              "Disk penuh",
		"store.incompatible":     "Basis data tidak cocok dengan versi",
		"lookup.unreachable":     "Layanan cek pajak tidak terjangkau",
		"clock.skew":             "Jam kiosk tidak tepat",
		"kiosk.offline":          "Kiosk offline",
		"office.offline":         "Gangguan jaringan/listrik kantor",
	}
	presenceLabels = map[hubapi.Presence]string{
		hubapi.Online:  "Online",
		hubapi.Late:    "Terlambat",
		hubapi.Offline: "Offline",
		hubapi.Unknown: "Belum ada kabar",
	}
	paperLabels = map[string]string{
		"ok": "Kertas cukup", "near_end": "Kertas hampir habis", "out": "Kertas habis", "unknown": "Kertas tidak diketahui",
	}
	stateLabels = map[string]string{
		"open": "Terbuka", "acknowledged": "Diakui", "resolved": "Selesai", "active": "Aktif (terbuka/diakui)",
	}
	severityLabels = map[string]string{"critical": "Kritis", "warning": "Peringatan", "info": "Info"}
	outcomeLabels  = map[string]string{
		"done":     "selesai",
		"accepted": "diterima, sedang dijalankan",
		"deferred": "ditunda: dijalankan saat kiosk tidak dipakai",
		"rejected": "ditolak oleh kiosk",
		"offline":  "kiosk tidak menjawab (offline)",
		"failed":   "gagal",
		"expired":  "kedaluwarsa sebelum dijalankan",
	}
	levelLabels = map[string]string{
		kiosk.RestartUIReload: "Muat ulang layar",
		kiosk.RestartUI:       "Mulai ulang aplikasi layar",
		kiosk.RestartAgent:    "Mulai ulang agen kiosk",
		kiosk.RestartHost:     "Nyalakan ulang PC",
	}
	actionLabels = map[string]string{
		"incident.opened":       "Insiden dibuka",
		"incident.acknowledged": "Insiden diakui",
		"incident.resolved":     "Insiden diselesaikan",
		"maintenance.set":       "Mode perawatan",
		"restart":               "Restart kiosk",
		"user.added":            "Pengguna ditambahkan",
		"user.disabled":         "Pengguna dinonaktifkan",
		"user.enabled":          "Pengguna diaktifkan",
		"credential.revoked":    "Kredensial dicabut",
	}
	alertKindLabels = map[string]string{
		"opened": "Insiden baru", "resolved": "Insiden selesai", "reminder": "Pengingat lewat batas",
		"alive": "Hub hidup (harian)", "backup": "Cadangan", "expiry": "Masa berlaku", "disk": "Disk hub",
	}
	alertStateLabels = map[string]string{"queued": "Antre", "sent": "Terkirim", "failed": "Gagal"}
	roleLabels       = map[string]string{
		hubapi.RoleUPTD: "UPTD", hubapi.RoleSistim: "Bidang Sistim", hubapi.RoleAdmin: "Admin",
	}
	eventLabels = map[string]string{
		kiosk.EventBoot:         "Kiosk menyala",
		kiosk.EventShutdown:     "Kiosk dimatikan dengan benar",
		kiosk.EventFaultRaised:  "Gangguan",
		kiosk.EventFaultCleared: "Gangguan selesai",
		kiosk.EventCommand:      "Hasil perintah",
		kiosk.EventUsage:        "Ringkasan pemakaian",
		kiosk.EventDropped:      "Data pemakaian dibuang",
	}
	monthsID = [...]string{"Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"}
)

func label(m map[string]string, k string) string {
	if l, ok := m[k]; ok {
		return l
	}
	return k
}

func faultLabel(code string) string { return label(faultLabels, code) }
func roleLabel(role string) string  { return label(roleLabels, role) }
func stateLabel(s string) string    { return label(stateLabels, s) }
func outcomeLabel(o string) string  { return label(outcomeLabels, o) }
func severityLabel(s string) string { return label(severityLabels, s) }
func actionLabel(a string) string   { return label(actionLabels, a) }
func presenceLabel(p hubapi.Presence) string {
	if l, ok := presenceLabels[p]; ok {
		return l
	}
	return string(p)
}

// severityOf is a fault code's severity: the kiosk contract's table, and
// critical for the hub's own offline codes.
func severityOf(code string) string {
	if s, ok := kiosk.Severity[code]; ok {
		return s
	}
	if strings.HasSuffix(code, ".offline") {
		return "critical"
	}
	return "warning"
}

// clock formats times for people in the dashboard's zone.
type clock struct {
	tz  *time.Location
	now time.Time
}

// format is "2 Jan 2006 15.04" (Indonesian style); the year is left out
// for this year's dates and the date for today's.
func (c clock) format(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	t = t.In(c.tz)
	n := c.now.In(c.tz)
	hm := fmt.Sprintf("%02d.%02d", t.Hour(), t.Minute())
	switch {
	case t.Year() == n.Year() && t.YearDay() == n.YearDay():
		return hm
	case t.Year() == n.Year():
		return fmt.Sprintf("%d %s %s", t.Day(), monthsID[t.Month()-1], hm)
	}
	return fmt.Sprintf("%d %s %d %s", t.Day(), monthsID[t.Month()-1], t.Year(), hm)
}

// full always shows the date, for tables people print.
func (c clock) full(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	t = t.In(c.tz)
	return fmt.Sprintf("%d %s %d %02d.%02d", t.Day(), monthsID[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

// ago is "5 menit lalu". The page's script keeps it current from the
// element's datetime attribute.
func (c clock) ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return agoText(c.now.Sub(t))
}

func agoText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "baru saja"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " menit lalu"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " jam lalu"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " hari lalu"
}

// bytesText is a size in Indonesian notation (decimal comma).
func bytesText(b uint64) string {
	const gb = 1 << 30
	if b >= gb {
		return strings.Replace(strconv.FormatFloat(float64(b)/gb, 'f', 1, 64), ".", ",", 1) + " GB"
	}
	return strconv.FormatUint(b>>20, 10) + " MB"
}

// card is one kiosk as the fleet grid shows it. It depends only on the
// kiosk, never on who looks, so one render serves every viewer.
type card struct {
	ID, Office, Version, Mode string
	Presence                  string // css class: online | late | offline | unknown
	PresenceLabel             string
	LastSeen                  time.Time
	LastSeenText, LastSeenAgo string
	Paper, PaperLabel         string // Paper is the css class: ok | warn | bad
	Power, PowerLabel         string
	Unclean, UncleanLabel     string // last unclean shutdown: css class and text, "" if none known
	Disk, DiskLabel           string
	Maintenance               bool
	Faults                    []faultChip
}

type faultChip struct {
	Code, Label, Severity string
}

func (c clock) card(k hubapi.FleetKiosk) card {
	cd := card{
		ID: k.Kiosk, Office: k.Office, Version: k.Version, Mode: k.Mode,
		Presence: string(k.Presence), PresenceLabel: presenceLabel(k.Presence),
		LastSeen: k.LastSeen, LastSeenText: c.format(k.LastSeen), LastSeenAgo: c.ago(k.LastSeen),
		Maintenance: k.Mode == kiosk.ModeMaintenance,
	}
	if cd.Presence == "" {
		cd.Presence, cd.PresenceLabel = string(hubapi.Unknown), presenceLabel(hubapi.Unknown)
	}
	has := func(code string) bool { return slices.Contains(k.Faults, code) }
	for _, f := range k.Faults {
		cd.Faults = append(cd.Faults, faultChip{Code: f, Label: faultLabel(f), Severity: severityOf(f)})
	}

	cd.PaperLabel = label(paperLabels, k.Printer.Paper)
	switch {
	case !k.Printer.Connected && k.Printer.Transport != "" || has("printer.missing"):
		cd.Paper, cd.PaperLabel = "bad", "Printer tidak terhubung"
	case k.Printer.Paper == "out" || has("printer.paper_out"):
		cd.Paper, cd.PaperLabel = "bad", paperLabels["out"]
	case k.Printer.CoverOpen:
		cd.Paper, cd.PaperLabel = "bad", faultLabels["printer.cover_open"]
	case k.Printer.Paper == "near_end" || has("printer.paper_near_end"):
		cd.Paper, cd.PaperLabel = "warn", paperLabels["near_end"]
	case k.Printer.Paper == "ok":
		cd.Paper = "ok"
	default:
		cd.Paper = "unknown"
		if cd.PaperLabel == "" {
			cd.PaperLabel = paperLabels["unknown"]
		}
	}

	switch {
	case has("power.battery_low"):
		cd.Power, cd.PowerLabel = "bad", faultLabels["power.battery_low"]
	case k.Power.Source == "battery" || has("power.on_battery"):
		cd.Power, cd.PowerLabel = "warn", "Baterai (UPS): listrik padam?"
	case has("power.unclean_shutdown"):
		cd.Power, cd.PowerLabel = "warn", "Sempat mati tidak wajar"
	case k.Power.Source == "mains":
		cd.Power, cd.PowerLabel = "ok", "Listrik PLN"
	default:
		cd.Power, cd.PowerLabel = "unknown", "Sumber listrik tidak diketahui"
	}

	if !k.LastUnclean.IsZero() {
		// Recent ones matter (a power cut this morning); old ones are
		// history, still worth a glance when a kiosk misbehaves.
		cd.Unclean = "info"
		if c.now.Sub(k.LastUnclean) < 24*time.Hour {
			cd.Unclean = "warn"
		}
		cd.UncleanLabel = "Mati tidak wajar terakhir " + c.format(k.LastUnclean) + " (" + c.ago(k.LastUnclean) + ")"
	}

	switch {
	case k.Disk.TotalBytes == 0:
		cd.Disk, cd.DiskLabel = "unknown", "Disk tidak diketahui"
	default:
		pct := k.Disk.FreeBytes * 100 / k.Disk.TotalBytes
		cd.DiskLabel = fmt.Sprintf("Disk bebas %s (%d%%)", bytesText(k.Disk.FreeBytes), pct)
		switch {
		case has("disk.full"):
			cd.Disk = "bad"
		case has("disk.low"):
			cd.Disk = "warn"
		default:
			cd.Disk = "ok"
		}
	}
	return cd
}

// counts are an office's kiosks by presence, for the top of the fleet
// page. They depend only on the office.
type counts struct {
	Office                                 string
	Online, Late, Offline, Unknown, Faulty int
	Maintenance, Total                     int
}

func countOffice(office string, ks []hubapi.FleetKiosk) counts {
	c := counts{Office: office}
	for _, k := range ks {
		c.Total++
		switch k.Presence {
		case hubapi.Online:
			c.Online++
		case hubapi.Late:
			c.Late++
		case hubapi.Offline:
			c.Offline++
		default:
			c.Unknown++
		}
		if len(k.Faults) > 0 {
			c.Faulty++
		}
		if k.Mode == kiosk.ModeMaintenance {
			c.Maintenance++
		}
	}
	return c
}

func (c *counts) add(o counts) {
	c.Online += o.Online
	c.Late += o.Late
	c.Offline += o.Offline
	c.Unknown += o.Unknown
	c.Faulty += o.Faulty
	c.Maintenance += o.Maintenance
	c.Total += o.Total
}

// domID is the DOM id of an element showing a kiosk ("k-"), an office's
// counts ("c-") or an incident ("i-"). Ids and office names may hold any
// character; the id keeps letters, digits, '-' and '_' and writes the
// other bytes as ".xx", so it is unique, stable and needs no escaping in
// HTML, CSS or the live stream.
func domID(prefix, s string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(s))
	b.WriteString(prefix)
	const hexdigits = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('.')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
	return b.String()
}

// byOffice groups kiosks by office, both sorted.
func byOffice(ks []hubapi.FleetKiosk) (offices []string, groups map[string][]hubapi.FleetKiosk) {
	groups = map[string][]hubapi.FleetKiosk{}
	for _, k := range ks {
		if _, ok := groups[k.Office]; !ok {
			offices = append(offices, k.Office)
		}
		groups[k.Office] = append(groups[k.Office], k)
	}
	slices.Sort(offices)
	for _, g := range groups {
		slices.SortFunc(g, func(a, b hubapi.FleetKiosk) int { return cmp.Compare(a.Kiosk, b.Kiosk) })
	}
	return offices, groups
}

// incidentRow is one incident as lists show it.
type incidentRow struct {
	hubapi.Incident
	StateLabel, SeverityLabel, CodeLabel string
	Opened, Acked, Resolved              string
	Overdue                              bool
}

func (c clock) incidentRow(i hubapi.Incident) incidentRow {
	return incidentRow{
		Incident: i, StateLabel: stateLabel(i.State), SeverityLabel: severityLabel(i.Severity),
		CodeLabel: faultLabel(i.Code), Opened: c.format(i.OpenedAt), Acked: c.format(i.AckedAt),
		Resolved: c.format(i.ResolvedAt), Overdue: i.Overdue(),
	}
}

// timelineEntry is one line of a kiosk's timeline: an event or a
// presence change.
type timelineEntry struct {
	At       time.Time
	When     string
	Label    string
	Detail   string
	Severity string // css class: critical | warning | ok | info
}

// timeline merges the kiosk's events and presence log, newest first.
func (c clock) timeline(rep hubapi.KioskReply) []timelineEntry {
	out := make([]timelineEntry, 0, len(rep.Events)+len(rep.Presence))
	for _, e := range rep.Events {
		out = append(out, eventEntry(e))
	}
	for _, t := range rep.Presence {
		sev := "info"
		switch t.To {
		case hubapi.Offline:
			sev = "critical"
		case hubapi.Late:
			sev = "warning"
		case hubapi.Online:
			sev = "ok"
		}
		out = append(out, timelineEntry{
			At: t.At, Severity: sev,
			Label: "Status: " + presenceLabel(t.From) + " → " + presenceLabel(t.To),
		})
	}
	slices.SortStableFunc(out, func(a, b timelineEntry) int { return b.At.Compare(a.At) })
	for i := range out {
		out[i].When = c.full(out[i].At)
	}
	return out
}

func eventEntry(e kiosk.Event) timelineEntry {
	te := timelineEntry{At: e.At, Label: label(eventLabels, e.Type), Severity: "info"}
	switch e.Type {
	case kiosk.EventFaultRaised, kiosk.EventFaultCleared:
		var f kiosk.FaultData
		if json.Unmarshal(e.Data, &f) == nil {
			te.Label += ": " + faultLabel(f.Code)
			te.Detail = f.Detail
			if f.Outage != nil {
				te.Detail = strings.TrimSpace(te.Detail + " " + outageText(f.Outage))
			}
			if e.Type == kiosk.EventFaultRaised {
				te.Severity = cmp.Or(f.Severity, severityOf(f.Code))
			} else {
				te.Severity = "ok"
				if f.DurationS != nil {
					te.Detail = strings.TrimSpace(te.Detail + " (berlangsung " + durText(time.Duration(*f.DurationS)*time.Second) + ")")
				}
			}
		}
	case kiosk.EventBoot:
		var b struct {
			Outage *kiosk.Outage `json:"outage"`
		}
		if json.Unmarshal(e.Data, &b) == nil && b.Outage != nil {
			te.Detail = outageText(b.Outage)
		}
	case kiosk.EventShutdown:
		te.Severity = "warning"
	case kiosk.EventCommand:
		var r kiosk.CommandResult
		if json.Unmarshal(e.Data, &r) == nil {
			te.Label += " " + r.Verb + ": " + outcomeLabel(r.Outcome)
			te.Detail = r.Detail
			if r.RequestedBy != "" {
				te.Detail = strings.TrimSpace(te.Detail + " (oleh " + r.RequestedBy + ")")
			}
			if r.Outcome == kiosk.OutcomeFailed || r.Outcome == kiosk.OutcomeExpired {
				te.Severity = "warning"
			}
		}
	case kiosk.EventUsage:
		var u kiosk.UsageData
		if json.Unmarshal(e.Data, &u) == nil {
			te.Detail = fmt.Sprintf("%d pencarian, %d ditemukan, %d cetak, %d galat", u.Lookups, u.Found, u.Prints, u.Errors)
		}
	case kiosk.EventDropped:
		var dd kiosk.DroppedData
		if json.Unmarshal(e.Data, &dd) == nil {
			te.Detail = fmt.Sprintf("%d data %s (alasan: %s)", dd.Count, dd.Type, dd.Reason)
		}
		te.Severity = "warning"
	}
	return te
}

func outageText(o *kiosk.Outage) string {
	return "Mati selama " + durText(time.Duration(o.Seconds)*time.Second)
}

// durText is a duration for people: "3 jam 5 menit".
func durText(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%d jam %d menit", h, m)
	case h > 0:
		return fmt.Sprintf("%d jam", h)
	case m > 0:
		return fmt.Sprintf("%d menit", m)
	}
	return "kurang dari 1 menit"
}

// lastUncleanShutdown finds the newest power.unclean_shutdown among a
// kiosk's faults and events, for the power line of the kiosk page.
func lastUncleanShutdown(rep hubapi.KioskReply) (time.Time, string) {
	var at time.Time
	var detail string
	for _, f := range rep.Faults {
		if f.Code == "power.unclean_shutdown" && f.Since.After(at) {
			at, detail = f.Since, f.Detail
		}
	}
	for _, e := range rep.Events {
		if e.Type != kiosk.EventFaultRaised || !e.At.After(at) {
			continue
		}
		var f kiosk.FaultData
		if json.Unmarshal(e.Data, &f) == nil && f.Code == "power.unclean_shutdown" {
			at, detail = e.At, f.Detail
			if f.Outage != nil {
				detail = outageText(f.Outage)
			}
		}
	}
	return at, detail
}
