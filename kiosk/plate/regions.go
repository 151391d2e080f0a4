package plate

// provinces maps the region codes of domain/pkb.md 3.2 (Perpol 7/2021
// Lampiran A, plus the 2024 Papua codes) to province names. Papua
// Pegunungan is left out because its code is unconfirmed there; its plates
// are BAD_REGION until the spec names it. NTB and NTT are spelled out
// because the name is shown to the public.
var provinces = map[string]string{
	// Sumatra
	"BL": "Aceh",
	"BK": "Sumatera Utara",
	"BB": "Sumatera Utara",
	"BA": "Sumatera Barat",
	"BM": "Riau",
	"BP": "Kepulauan Riau",
	"BG": "Sumatera Selatan",
	"BN": "Bangka Belitung",
	"BE": "Lampung",
	"BD": "Bengkulu",
	"BH": "Jambi",

	// Java
	"B":  "DKI Jakarta",
	"A":  "Banten",
	"D":  "Jawa Barat",
	"F":  "Jawa Barat",
	"T":  "Jawa Barat",
	"E":  "Jawa Barat",
	"Z":  "Jawa Barat",
	"H":  "Jawa Tengah",
	"G":  "Jawa Tengah",
	"K":  "Jawa Tengah",
	"R":  "Jawa Tengah",
	"AA": "Jawa Tengah",
	"AD": "Jawa Tengah",
	"AB": "DI Yogyakarta",
	"L":  "Jawa Timur",
	"W":  "Jawa Timur",
	"N":  "Jawa Timur",
	"P":  "Jawa Timur",
	"AG": "Jawa Timur",
	"AE": "Jawa Timur",
	"S":  "Jawa Timur",
	"M":  "Jawa Timur",

	// Bali, Nusa Tenggara
	"DK": "Bali",
	"DR": "Nusa Tenggara Barat",
	"EA": "Nusa Tenggara Barat",
	"DH": "Nusa Tenggara Timur",
	"EB": "Nusa Tenggara Timur",
	"ED": "Nusa Tenggara Timur",

	// Kalimantan
	"KB": "Kalimantan Barat",
	"DA": "Kalimantan Selatan",
	"KH": "Kalimantan Tengah",
	"KT": "Kalimantan Timur",
	"KU": "Kalimantan Utara",

	// Sulawesi
	"DB": "Sulawesi Utara",
	"DL": "Sulawesi Utara",
	"DM": "Gorontalo",
	"DN": "Sulawesi Tengah",
	"DD": "Sulawesi Selatan",
	"DP": "Sulawesi Selatan",
	"DW": "Sulawesi Selatan",
	"DC": "Sulawesi Barat",
	"DT": "Sulawesi Tenggara",

	// Maluku
	"DE": "Maluku",
	"DG": "Maluku Utara",

	// Papua
	"PA": "Papua",
	"PB": "Papua Barat",
	"PY": "Papua Barat Daya",
	"PS": "Papua Selatan",
	"PT": "Papua Tengah",
}
