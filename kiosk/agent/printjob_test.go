package agent

import "testing"

func TestNextJob(t *testing.T) {
	all := []jobEvent{evStart, evPrinted, evFailed, evLost, evAbandoned, evInterrupted}
	allowed := map[string]map[jobEvent]string{
		jobQueued:      {evStart: jobPrinting, evAbandoned: jobFailed, evInterrupted: jobFailed},
		jobPrinting:    {evPrinted: jobDone, evFailed: jobFailed, evInterrupted: jobFailed, evLost: jobQuarantined},
		jobDone:        {},
		jobFailed:      {},
		jobQuarantined: {},
	}
	for cur, moves := range allowed {
		for _, ev := range all {
			got, err := nextJob(cur, ev)
			want, ok := moves[ev]
			switch {
			case ok && (err != nil || got != want):
				t.Errorf("nextJob(%s, %s) = %s, %v; want %s", cur, ev, got, err, want)
			case !ok && (err == nil || got != cur):
				t.Errorf("nextJob(%s, %s) = %s, %v; want an error and the state unchanged", cur, ev, got, err)
			}
		}
	}
}

// TestJobScenarios lists the state chains a taxpayer's slip can go through.
func TestJobScenarios(t *testing.T) {
	for _, tt := range []struct {
		name   string
		events []jobEvent
		chain  []string
	}{
		{"printed", []jobEvent{evStart, evPrinted}, []string{jobQueued, jobPrinting, jobDone}},
		{"paper ran out", []jobEvent{evStart, evFailed}, []string{jobQueued, jobPrinting, jobFailed}},
		{"unplugged mid-slip", []jobEvent{evStart, evLost}, []string{jobQueued, jobPrinting, jobQuarantined}},
		{"power cut while printing", []jobEvent{evStart, evInterrupted}, []string{jobQueued, jobPrinting, jobFailed}},
		{"power cut while queued", []jobEvent{evInterrupted}, []string{jobQueued, jobFailed}},
		{"taxpayer left", []jobEvent{evAbandoned}, []string{jobQueued, jobFailed}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cur := jobQueued
			chain := []string{cur}
			for _, ev := range tt.events {
				next, err := nextJob(cur, ev)
				if err != nil {
					t.Fatal(err)
				}
				cur = next
				chain = append(chain, cur)
			}
			if len(chain) != len(tt.chain) {
				t.Fatalf("chain %v, want %v", chain, tt.chain)
			}
			for i := range chain {
				if chain[i] != tt.chain[i] {
					t.Fatalf("chain %v, want %v", chain, tt.chain)
				}
			}
		})
	}
}
