package hub

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func bundle(version int, title string) string {
	return `{"version":` + string(rune('0'+version)) + `,"updated":"2026-11-23","pages":[{"id":"help","title":{"id":"` + title + `"},"blocks":{"id":[{"p":"x"}]}}]}`
}

func TestContentDir(t *testing.T) {
	dir := t.TempDir()
	c := NewContentDir(dir)
	b, file, err := c.Bundle("padang")
	if err != nil || file != "" || b.Version != 1 {
		t.Fatalf("empty dir: %v %q %v; want the built-in bundle", b.Version, file, err)
	}
	os.WriteFile(filepath.Join(dir, "default.json"), []byte(bundle(2, "default")), 0o644)
	if b, file, _ := c.Bundle("padang"); b.Version != 2 || filepath.Base(file) != "default.json" {
		t.Errorf("with default.json: version %d from %q", b.Version, file)
	}
	os.WriteFile(filepath.Join(dir, "padang.json"), []byte(bundle(3, "padang")), 0o644)
	if b, _, _ := c.Bundle("padang"); b.Version != 3 || b.Pages[0].Title["id"] != "padang" {
		t.Errorf("office file: %+v", b)
	}
	if b, _, _ := c.Bundle("bukittinggi"); b.Version != 2 {
		t.Errorf("another office: version %d, want the default's 2", b.Version)
	}
	// An edit is picked up (the cache keys on modification time and size).
	os.WriteFile(filepath.Join(dir, "padang.json"), []byte(bundle(4, "padang, edited")), 0o644)
	os.Chtimes(filepath.Join(dir, "padang.json"), time.Now().Add(time.Second), time.Now().Add(time.Second))
	if b, _, _ := c.Bundle("padang"); b.Version != 4 {
		t.Errorf("after an edit: version %d, want 4", b.Version)
	}
	// A broken office file is an error, not a silent fallback to default.
	os.WriteFile(filepath.Join(dir, "padang.json"), []byte(`{"version":5,`), 0o644)
	os.Chtimes(filepath.Join(dir, "padang.json"), time.Now().Add(2*time.Second), time.Now().Add(2*time.Second))
	if _, file, err := c.Bundle("padang"); err == nil || !strings.Contains(err.Error(), "padang.json") || filepath.Base(file) != "padang.json" {
		t.Errorf("broken office file: %q %v; want an error naming the file", file, err)
	}
}
