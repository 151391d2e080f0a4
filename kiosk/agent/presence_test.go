package agent_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
)

// TestHubSeesHeartbeatsStop: with 1 s heartbeats the hub shows the kiosk
// online, then late, then offline after it stops (hub.fleet).
func TestHubSeesHeartbeatsStop(t *testing.T) {
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
		h.Now, a.Now = nil, nil
		a.Heartbeat = time.Second
	})
	nc, err := nats.Connect(e.hub.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	presence := func() string {
		ks, err := hub.FetchFleet(t.Context(), nc, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			if k.Kiosk == "padang-01" {
				return string(k.Presence)
			}
		}
		return ""
	}
	wait := func(want string, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for presence() != want {
			if time.Now().After(deadline) {
				t.Fatalf("presence %q, want %q within %v", presence(), want, within)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait("online", 5*time.Second)
	e.agentStop()
	wait("late", 4*time.Second)
	wait("offline", 5*time.Second)
}
