package sample

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"bytes"
)

func TestExplore(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	t0 := time.Now()
	vs := generate(1, 100000, testRef)
	t1 := time.Now()
	slices.SortFunc(vs, func(a, b vehicle) int { return strings.Compare(a.Nopol, b.Nopol) })
	t2 := time.Now()
	dir := t.TempDir()
	p := params{Version: generatorVersion, Seed: 1, Size: 100000, Ref: testRef}
	if err := write(t.Context(), filepath.Join(dir, "a.db"), p, vs); err != nil {
		t.Fatal(err)
	}
	t3 := time.Now()
	fmt.Println("gen", t1.Sub(t0), "sort", t2.Sub(t1), "write", t3.Sub(t2))
	build(t.Context(), filepath.Join(dir, "b.db"), p)
	a, _ := os.ReadFile(filepath.Join(dir, "a.db"))
	b, _ := os.ReadFile(filepath.Join(dir, "b.db"))
	fmt.Println("identical bytes", bytes.Equal(a, b))
	t4 := time.Now()
	s, err := Open(t.Context(), Config{Path: filepath.Join(dir, "b.db"), Size: 100000, Ref: testRef, Now: testNow})
	fmt.Println("reopen", time.Since(t4), err, s.Stats())
	t5 := time.Now()
	ps, err := s.Plates(t.Context(), 20)
	fmt.Println("plates", time.Since(t5), err)
	for _, p := range ps {
		fmt.Println(p)
	}
}
