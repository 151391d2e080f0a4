package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// TestKillDuringEventWrites is the kill -9 trial of DESIGN 5: a real
// kioskd writes events as fast as it can (--drill) while its outbox
// drains to the hub, and is killed with SIGKILL at a random moment, again
// and again. After each kill the store passes PRAGMA integrity_check and
// every event it holds keeps its id; at the end every event the agent
// had committed is at the hub exactly once, and the hub knows of no gap.
//
// FAULTS_TRIALS sets the number of kills (default 20; make faults: 200).
func TestKillDuringEventWrites(t *testing.T) {
	trials := 20
	if v := os.Getenv("FAULTS_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("FAULTS_TRIALS=%q: want a positive number", v)
		}
		trials = n
	}
	dir := t.TempDir()
	bin := buildKioskd(t)
	hub := startHub(t)
	bootFile := filepath.Join(dir, "boot_id")
	os.WriteFile(bootFile, []byte("boot-1\n"), 0o644)
	data := filepath.Join(dir, "data")
	urlRe := regexp.MustCompile(`msg="kioskd running" .*url=(http://\S+)`)

	// start runs kioskd and returns once it serves, with its base URL.
	start := func(drill int) (*exec.Cmd, string) {
		t.Helper()
		cmd, m := startUntil(t, bin, urlRe, "logged that it runs", "--id", "padang-01", "--office", "padang", "--data", data,
			"--nats", hub.NATSURL(), "--http", "127.0.0.1:0", "--ui", "off", "--boot-id-file", bootFile, "--heartbeat", "1s",
			"--drill", strconv.Itoa(drill))
		return cmd, m[1]
	}

	committed := map[int64]string{} // seq -> id, as found in the store after a kill
	var epoch string
	for i := range trials {
		cmd, _ := start(2000)
		time.Sleep(time.Duration(50+rand.IntN(400)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		ep, rows := readOutbox(t, filepath.Join(data, "kiosk.db"))
		if epoch == "" {
			epoch = ep
		} else if ep != epoch {
			t.Fatalf("trial %d: epoch changed from %s to %s: the store was recreated", i+1, epoch, ep)
		}
		for seq, id := range rows {
			if old, ok := committed[seq]; ok && old != id {
				t.Fatalf("trial %d: seq %d had id %s, now %s: a committed event changed", i+1, seq, old, id)
			}
			committed[seq] = id
		}
	}

	// A last run drains what is left and stops in order; the run after it
	// sends that run's lifecycle.shutdown, and is killed once idle.
	drained := func(base string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			var st kiosk.Status
			if resp, err := http.Get(base + "api/status"); err == nil {
				json.NewDecoder(resp.Body).Decode(&st)
				resp.Body.Close()
			}
			if st.Bus.Connected && st.Bus.OutboxPending == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("outbox_pending = %d after a minute", st.Bus.OutboxPending)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	cmd, base := start(0)
	drained(base)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("orderly stop: %v", err)
	}
	cmd, base = start(0)
	drained(base)
	cmd.Process.Kill()
	cmd.Wait()
	_, rows := readOutbox(t, filepath.Join(data, "kiosk.db"))
	var maxSeq int64
	for seq, id := range rows {
		if old, ok := committed[seq]; ok && old != id {
			t.Fatalf("seq %d had id %s, now %s", seq, old, id)
		}
		committed[seq] = id
		maxSeq = max(maxSeq, seq)
	}

	// The hub's projection, once it has caught up with the stream.
	var lost, dup int
	wait := time.Now().Add(30 * time.Second)
	for {
		evs, err := hub.Store().Events(t.Context(), "padang-01", 0)
		if err != nil {
			t.Fatal(err)
		}
		bySeq := map[int64]int{}
		idOf := map[int64]string{}
		for _, e := range evs {
			if e.Epoch == epoch {
				bySeq[e.Seq]++
				idOf[e.Seq] = e.ID
			}
		}
		lost, dup = 0, 0
		for seq, id := range committed {
			if idOf[seq] != id {
				lost++
			}
		}
		for _, n := range bySeq {
			dup += n - 1
		}
		if lost == 0 && len(bySeq) == int(maxSeq) || time.Now().After(wait) {
			if len(bySeq) != int(maxSeq) {
				t.Errorf("hub holds %d distinct seqs of the epoch, the agent wrote 1..%d", len(bySeq), maxSeq)
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	gaps, err := hub.Store().Gaps(t.Context(), "padang-01")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("faults: trials %d, committed events %d (seq 1..%d), lost %d, duplicated %d, hub gaps %d",
		trials, len(committed), maxSeq, lost, dup, len(gaps))
	if lost != 0 || dup != 0 || len(gaps) != 0 {
		t.Errorf("lost %d, duplicated %d, gaps %v: want none", lost, dup, gaps)
	}
}

// readOutbox checks the integrity of a kioskd store after a kill and
// returns its epoch and every event it holds (sent or not) by seq.
func readOutbox(t *testing.T, file string) (string, map[int64]string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+file+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check after kill -9: %q, %v", ok, err)
	}
	var epoch string
	if err := db.QueryRow("SELECT value FROM state WHERE key = 'epoch'").Scan(&epoch); err != nil {
		t.Fatalf("epoch: %v", err)
	}
	rows, err := db.Query("SELECT seq, id FROM outbox")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			t.Fatal(err)
		}
		out[seq] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(fmt.Errorf("read outbox: %w", err))
	}
	return epoch, out
}
