package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestSamplePlates(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"sample", "plates", "--data", t.TempDir(), "--sample-size", "500", "--n", "12"}, &out, &errb)
	if err != nil {
		t.Fatalf("sample plates: %v (%s)", err, errb.String())
	}
	line := regexp.MustCompile(`^(BA [0-9]{1,4}( [A-Z]{1,3})?)\t([0-9A-Z]{5}|-)\t(paid|late|late_over_year|blocked|renewal_due|not_found)$`)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 12 {
		t.Fatalf("got %d lines, want 12:\n%s", len(lines), out.String())
	}
	cats := map[string]int{}
	for _, l := range lines {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line %q is not PLATE<TAB>RANGKA5<TAB>CATEGORY", l)
			continue
		}
		cats[m[4]]++
		if (m[4] == "not_found") != (m[3] == "-") {
			t.Errorf("line %q: RANGKA5 must be - exactly for not_found", l)
		}
	}
	if len(cats) != 6 {
		t.Errorf("categories = %v, want all six", cats)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},                         // no --data
		{"--data", "x", "extra"},   // stray argument
		{"--data", "x", "--bogus"}, // unknown flag
		{"sample"},                 // missing "plates"
		{"sample", "plates"},       // no --data
		{"sample", "plates", "--data", "x", "--n", "0"},
		{"--data", "x", "--sample-size", "-1"},
	} {
		var out, errb bytes.Buffer
		err := run(t.Context(), args, &out, &errb)
		if got := exitCode(err); got != 2 || errb.Len() == 0 {
			t.Errorf("kioskhub %q: exit %d, stderr %q; want 2 with a message", args, got, errb.String())
		}
	}
}
