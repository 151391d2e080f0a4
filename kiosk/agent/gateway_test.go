package agent_test

import (
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
)

// TestLookupUnreachable: with the gateway gone (hub up, service stopped)
// the kiosk raises lookup.unreachable; the fault clears when a hub with a
// gateway is back.
func TestLookupUnreachable(t *testing.T) {
	e := newEnv(t, func(_ *hubserver.Config, a *agent.Config) {
		a.Now, a.LookupProbe = nil, 100*time.Millisecond
	})
	time.Sleep(300 * time.Millisecond)
	for _, f := range e.faults() {
		if f == "lookup.unreachable" {
			t.Fatal("lookup.unreachable raised while the gateway answers")
		}
	}
	if err := e.hub.StopGateway(); err != nil {
		t.Fatal(err)
	}
	e.waitFault("lookup.unreachable", true)
	e.stopHub()
	e.startHub()
	e.waitFault("lookup.unreachable", false)
}
