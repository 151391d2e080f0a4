package sample

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
)

func TestExplore(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	ref := pkb.NewDate(2026, 11, 23)
	path := filepath.Join(t.TempDir(), "s.db")
	now := func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }
	s, err := Open(t.Context(), Config{Path: path, Size: 100000, Ref: ref, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, _ := os.Stat(path)
	fmt.Println(s.Stats(), fi.Size())
	vs := generate(1, 100000, ref)
	cats := map[Category]int{}
	kinds := map[kind]int{}
	tnkb := map[string]int{}
	mn, mx := map[kind]int64{}, map[kind]int64{}
	for i := range vs {
		v := &vs[i]
		c, ok := categorize(v, ref, pkb.DefaultRules())
		if !ok {
			c = "none"
		}
		cats[c]++
		k := modelOf(v.Merk, v.Tipe).kind
		kinds[k]++
		tnkb[v.WarnaTNKB]++
		if mn[k] == 0 || v.Pokok < mn[k] {
			mn[k] = v.Pokok
		}
		mx[k] = max(mx[k], v.Pokok)
		if i < 15 {
			fmt.Printf("%+v\n", *v)
		}
	}
	fmt.Println(cats, kinds, tnkb, mn, mx)
	ps, err := s.Plates(t.Context(), 12)
	fmt.Println(ps, err)
}
