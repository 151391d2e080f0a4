package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
)

// TestRemoteRestartRealProcess: a real kioskd told "restart agent" exits
// with code 3 (systemd starts it again); told "restart host" it runs the
// configured command once, and the boot after it carries the command id.
func TestRemoteRestartRealProcess(t *testing.T) {
	dir := t.TempDir()
	bin := buildKioskd(t)
	hub := startHub(t)
	nc, err := nats.Connect(hub.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ran := filepath.Join(dir, "reboots")
	reboot := filepath.Join(dir, "reboot")
	os.WriteFile(reboot, []byte("#!/bin/sh\necho reboot >> "+ran+"\n"), 0o755)
	bootFile := filepath.Join(dir, "boot_id")
	data := filepath.Join(dir, "data")
	runningRe := regexp.MustCompile(`msg="kioskd running"`)

	start := func(boot string) *exec.Cmd {
		t.Helper()
		os.WriteFile(bootFile, []byte(boot+"\n"), 0o644)
		cmd, _ := startUntil(t, bin, runningRe, "said it runs", "--id", "padang-01", "--office", "padang", "--data", data,
			"--nats", hub.NATSURL(), "--http", "127.0.0.1:0", "--ui", "off", "--boot-id-file", bootFile, "--host-restart", reboot)
		return cmd
	}
	command := func(verb, id string, body any) kiosk.CommandReply {
		t.Helper()
		m := nats.NewMsg(kiosk.CommandSubject("padang-01", verb))
		m.Header.Set(kiosk.HeaderCmdID, id)
		m.Data, _ = json.Marshal(body)
		var r *nats.Msg
		var err error
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			// The service subscribes once the agent is connected.
			if r, err = nc.RequestMsg(m, 5*time.Second); !errors.Is(err, nats.ErrNoResponders) || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", verb, err)
		}
		var rep kiosk.CommandReply
		json.Unmarshal(r.Data, &rep)
		return rep
	}

	cmd := start("boot-1")
	if rep := command("restart", "c-agent", kiosk.RestartRequest{Level: "agent"}); rep.Outcome != "accepted" {
		t.Fatalf("restart agent = %+v", rep)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("kioskd after restart agent: %v, want exit code 3", err)
	}

	cmd = start("boot-1")
	if rep := command("restart", "c-host", kiosk.RestartRequest{Level: "host"}); rep.Outcome != "accepted" {
		t.Fatalf("restart host = %+v", rep)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(ran); string(b) == "reboot\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the host restart command did not run")
		}
	}
	cmd.Process.Signal(os.Interrupt) // what systemctl reboot does to the service
	cmd.Wait()
	cmd = start("boot-2") // the machine came back
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if bootCarries(t, hub, "c-host") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no lifecycle.boot with cmd_id c-host at the hub")
		}
	}
	if b, _ := os.ReadFile(ran); string(b) != "reboot\n" {
		t.Errorf("reboot command ran %q, want once", b)
	}
}

func bootCarries(t *testing.T, hub *hubserver.Hub, cmdID string) bool {
	evs, err := hub.Store().Events(t.Context(), "padang-01", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		var d struct {
			CmdID string `json:"cmd_id"`
		}
		json.Unmarshal(e.Data, &d)
		if e.Type == kiosk.EventBoot && d.CmdID == cmdID {
			return true
		}
	}
	return false
}
