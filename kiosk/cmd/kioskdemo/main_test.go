package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoStartsAndStopsEverything runs the launcher behind `make run` with
// the real binaries, headless: it must print a working kiosk URL and
// sample plates, answer a lookup through the hub, and on SIGINT leave no
// process behind.
func TestDemoStartsAndStopsEverything(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+"/", "../kioskd", "../kioskui", "../kioskhub", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(filepath.Join(dir, "kioskdemo"), "--bin", dir, "--data", filepath.Join(dir, "demo"),
		"--sample-size", "2000", "--ui", "off", "--http", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "DISPLAY=", "WAYLAND_DISPLAY=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()

	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	var url, plate, rangka string
	pageRe := regexp.MustCompile(`Kiosk page:\s+(http://\S+)`)
	plateRe := regexp.MustCompile(`^\s+(BA [0-9]+(?: [A-Z]+)?)\s+([0-9A-Z]{5})\s+late$`)
	timeout := time.After(2 * time.Minute)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("launcher ended early; stderr:\n%s", stderr.String())
			}
			if m := pageRe.FindStringSubmatch(l); m != nil {
				url = m[1]
			}
			if m := plateRe.FindStringSubmatch(l); m != nil && plate == "" {
				plate, rangka = m[1], m[2]
			}
			if strings.Contains(l, "Press Ctrl-C") {
				break wait
			}
		case <-timeout:
			t.Fatalf("launcher not ready; stderr:\n%s", stderr.String())
		}
	}
	if url == "" || plate == "" {
		t.Fatalf("launcher printed no kiosk URL (%q) or no late sample plate (%q)", url, plate)
	}

	body, _ := json.Marshal(map[string]string{"plate": plate, "rangka5": rangka})
	resp, err := http.Post(url+"api/lookup", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var ans struct {
		Source string `json:"source"`
		Result struct {
			Nopol  string `json:"nopol"`
			Jumlah int64  `json:"jumlah"`
		} `json:"result"`
	}
	json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if resp.StatusCode != 200 || ans.Source != "live" || ans.Result.Nopol != plate || ans.Result.Jumlah <= 0 {
		t.Fatalf("lookup of %s through the demo = %d %+v; want 200, live, a bill", plate, resp.StatusCode, ans)
	}

	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("launcher exit after Ctrl-C: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("launcher did not stop within 30 s of SIGINT")
	}
	exited <- nil // for the deferred cleanup
	if left := processesUnder(dir); len(left) > 0 {
		t.Errorf("processes left after Ctrl-C: %v", left)
	}
}

// processesUnder lists live processes whose command line mentions dir.
func processesUnder(dir string) []string {
	var left []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte(dir)) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			continue // a zombie is already dead
		}
		left = append(left, strings.ReplaceAll(string(b), "\x00", " "))
	}
	return left
}
