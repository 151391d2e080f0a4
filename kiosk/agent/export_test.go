package agent

// Test hooks for the external tests of package agent_test. Compiled into
// the test binary only, so no build of kioskd can reach them.

// WedgeHeartbeat stops the agent's heartbeat loop, the loop whose turns
// prove the agent alive to systemd's watchdog (notify.go), until release
// is called or the agent stops. It stands for a wedged agent while the
// HTTP server still answers.
func WedgeHeartbeat(a *Agent) (release func()) {
	c := make(chan struct{})
	a.wd.stall.Store(&c)
	return func() {
		if a.wd.stall.CompareAndSwap(&c, nil) {
			close(c)
		}
	}
}
