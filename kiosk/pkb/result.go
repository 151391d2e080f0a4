// Package pkb is the vehicle-tax (Pajak Kendaraan Bermotor) domain: the
// normalised lookup result of domain/pkb.md 1.1 and the estimator of 2.4
// that computes a bill from vehicle facts for a given day.
//
// # Concepts
//
// Money is whole rupiah in int64. Dates are civil dates (Date) in the
// province's time zone (Asia/Jakarta), never instants, because a fine
// depends on the calendar day, not on the hour. A Result carries no personal
// data at all: the type has no field for owner, address, NIK or chassis
// number, so nothing can leak through it.
package pkb

import "time"

// Result is a lookup result (domain/pkb.md 1.1), as the gateway sends it and
// the kiosk shows and prints it.
type Result struct {
	Nopol        string    `json:"nopol"`
	Kendaraan    Kendaraan `json:"kendaraan"`
	TglAkhirPKB  Date      `json:"tgl_akhir_pkb"`
	TglAkhirSTNK Date      `json:"tgl_akhir_stnk"`
	Status       Status    `json:"status"`
	Rincian      Rincian   `json:"rincian"`
	Program      string    `json:"program"`
	Jumlah       int64     `json:"jumlah"`
	DihitungPada time.Time `json:"dihitung_pada"`
	Sumber       string    `json:"sumber"`
	Estimasi     bool      `json:"estimasi"`
}

// Kendaraan describes the vehicle; none of it identifies a person.
type Kendaraan struct {
	Merk      string `json:"merk"`
	Tipe      string `json:"tipe"`
	Tahun     string `json:"tahun"`
	Warna     string `json:"warna"`
	WarnaTNKB string `json:"warna_tnkb"` // PUTIH, HITAM, KUNING, MERAH or HIJAU
}

// Status is the blocking flag and the backend's remark, verbatim.
type Status struct {
	Blokir     bool   `json:"blokir"`
	Keterangan string `json:"keterangan"`
}

// Item is one line of the bill: the principal and the late fine.
type Item struct {
	Pokok int64 `json:"pokok"`
	Denda int64 `json:"denda"`
}

// PNBP are the STNK and TNKB fees, non-zero only in the 5-yearly renewal.
type PNBP struct {
	STNK int64 `json:"stnk"`
	TNKB int64 `json:"tnkb"`
}

// Rincian are the line items. OpsenPKB is nil when the source does not
// split the opsen out (shown as "-", not as 0).
type Rincian struct {
	PKB      Item  `json:"pkb"`
	OpsenPKB *Item `json:"opsen_pkb"`
	SWDKLLJ  Item  `json:"swdkllj"`
	PNBP     PNBP  `json:"pnbp"`
	Potongan int64 `json:"potongan"`
}

// Sum is Σpokok + Σdenda + PNBP − potongan, the figure jumlah must equal
// for sources that compute their own (domain/pkb.md 1.1).
func (r Rincian) Sum() int64 {
	s := r.PKB.Pokok + r.PKB.Denda + r.SWDKLLJ.Pokok + r.SWDKLLJ.Denda + r.PNBP.STNK + r.PNBP.TNKB - r.Potongan
	if r.OpsenPKB != nil {
		s += r.OpsenPKB.Pokok + r.OpsenPKB.Denda
	}
	return s
}
