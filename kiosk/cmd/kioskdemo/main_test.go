package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
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
	build := exec.Command("go", "build", "-o", dir+"/", "../kioskd", "../kioskui", "../kioskhub", "../printersim", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// With a display (make test runs under xvfb-run) the kiosk window opens
	// too, and its WebKit helper processes must go on Ctrl-C as well.
	withUI := os.Getenv("DISPLAY") != ""
	ui := "off"
	if withUI {
		ui = "auto"
	}
	cmd := exec.Command(filepath.Join(dir, "kioskdemo"), "--bin", dir, "--data", filepath.Join(dir, "demo"),
		"--sample-size", "2000", "--ui", ui, "--http", "127.0.0.1:0")
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
	// The kiosk sees the simulated printer through the serial path.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st struct {
			Printer struct {
				Connected bool   `json:"connected"`
				Paper     string `json:"paper"`
				Transport string `json:"transport"`
			} `json:"printer"`
		}
		if r, err := http.Get(url + "api/status"); err == nil {
			json.NewDecoder(r.Body).Decode(&st)
			r.Body.Close()
		}
		if st.Printer.Connected && st.Printer.Paper == "ok" && st.Printer.Transport == "serial" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo's kiosk does not see its printer: %+v", st.Printer)
		}
		time.Sleep(100 * time.Millisecond)
	}

	var tree []int
	if withUI {
		// Wait for the window's WebKit processes, then note every process
		// of the demo: all of them must be gone after Ctrl-C.
		deadline := time.Now().Add(30 * time.Second)
		for {
			tree = descendants(cmd.Process.Pid)
			if hasWebKit(tree) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no WebKit process under the demo after 30 s: %v", tree)
			}
			time.Sleep(100 * time.Millisecond)
		}
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
	for _, pid := range tree {
		if alive(pid) {
			t.Errorf("process %d (%s) of the demo is still running after Ctrl-C", pid, comm(pid))
		}
	}
}

// descendants returns the pids of all processes below pid.
func descendants(pid int) []int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut at ')'.
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+1:]))
		var me, parent int
		fmt.Sscan(filepath.Base(filepath.Dir(p)), &me)
		if len(f) > 1 {
			fmt.Sscan(f[1], &parent)
		}
		children[parent] = append(children[parent], me)
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(pid)
	return out
}

func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

func hasWebKit(pids []int) bool {
	for _, p := range pids {
		if strings.HasPrefix(comm(p), "WebKit") {
			return true
		}
	}
	return false
}

// alive reports whether pid runs (a zombie has already ended).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	return len(f) > 0 && f[0] != "Z"
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
