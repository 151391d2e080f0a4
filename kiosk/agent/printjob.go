package agent

import "fmt"

// Print job states (DESIGN 5; persisted in the store before each action).
const (
	jobQueued      = "queued"
	jobPrinting    = "printing"
	jobDone        = "done"
	jobFailed      = "failed"
	jobQuarantined = "quarantined" // outcome unknown: the printer vanished mid-slip
)

// jobEvent is what happens to a print job.
type jobEvent int

const (
	evStart       jobEvent = iota // the worker takes the job
	evPrinted                     // the printer took every byte and reports no fault
	evFailed                      // the printer refused (paper out, cover open, offline) before or after
	evLost                        // the device went away while the slip was being sent
	evAbandoned                   // the session ended before the job started
	evInterrupted                 // found unfinished at start (crash, power cut)
)

func (e jobEvent) String() string {
	return [...]string{"start", "printed", "failed", "lost", "abandoned", "interrupted"}[e]
}

// nextJob is the print job state machine: a pure function, so that every
// transition is covered by a table test. Terminal states accept nothing;
// in particular nothing ever leads from failed back to printing: a
// taxpayer who wants the slip asks again, and that is a new job.
func nextJob(cur string, ev jobEvent) (string, error) {
	switch {
	case cur == jobQueued && ev == evStart:
		return jobPrinting, nil
	case cur == jobQueued && (ev == evAbandoned || ev == evInterrupted):
		return jobFailed, nil
	case cur == jobPrinting && ev == evPrinted:
		return jobDone, nil
	case cur == jobPrinting && (ev == evFailed || ev == evInterrupted):
		return jobFailed, nil
	case cur == jobPrinting && ev == evLost:
		return jobQuarantined, nil
	}
	return cur, fmt.Errorf("agent: print job: no transition from %s on %s", cur, ev)
}
