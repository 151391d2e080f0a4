package hub

import (
	"fmt"
	"time"
)

// Incidents follow the SOP's report -> check -> resolve flow (DESIGN 7):
// open -> acknowledged -> resolved, or open -> resolved directly (the
// fault cleared before anyone looked: auto-resolved with a note). The
// states and the moves between them are a pure function, so the
// projection, a rebuild from HUB_EVENTS and the dashboard agree.

// IncidentState is where an incident is in its flow.
type IncidentState string

// Incident states.
const (
	IncidentOpen         IncidentState = "open"
	IncidentAcknowledged IncidentState = "acknowledged"
	IncidentResolved     IncidentState = "resolved"
)

// IncidentMove is what happens to an incident.
type IncidentMove string

// Incident moves.
const (
	MoveOpen        IncidentMove = "open"         // a critical fault was raised (or an office went silent)
	MoveAcknowledge IncidentMove = "acknowledge"  // someone took it: who and when are recorded
	MoveResolve     IncidentMove = "resolve"      // someone closed it, with a note
	MoveAutoResolve IncidentMove = "auto_resolve" // the fault cleared
)

// NextIncident returns the state after move, or an error saying why the
// move is not possible (acknowledging a resolved incident, opening one
// twice). It does no I/O and reads no clock.
func NextIncident(cur IncidentState, move IncidentMove) (IncidentState, error) {
	switch {
	case cur == "" && move == MoveOpen:
		return IncidentOpen, nil
	case cur == IncidentOpen && move == MoveAcknowledge:
		return IncidentAcknowledged, nil
	case (cur == IncidentOpen || cur == IncidentAcknowledged) && (move == MoveResolve || move == MoveAutoResolve):
		return IncidentResolved, nil
	}
	if cur == "" {
		return "", fmt.Errorf("incident: %s before it was opened", move)
	}
	return cur, fmt.Errorf("incident: cannot %s an incident that is %s", move, cur)
}

// Targets are the response times of one severity, in working time.
type Targets struct {
	Acknowledge time.Duration
	Resolve     time.Duration
}

// DefaultTargets: acknowledge within 30 minutes and resolve within one
// working day (8 hours of working time) for critical faults; warnings get
// a day to be acknowledged and three to be resolved.
var DefaultTargets = map[string]Targets{
	"critical": {Acknowledge: 30 * time.Minute, Resolve: 8 * time.Hour},
	"warning":  {Acknowledge: 8 * time.Hour, Resolve: 24 * time.Hour},
}

// Timing is an incident's deadlines and whether they were missed.
type Timing struct {
	AckDue, ResolveDue         time.Time
	AckOverdue, ResolveOverdue bool
	// TimeToAck and TimeToResolve are the working time taken, once done.
	TimeToAck, TimeToResolve time.Duration
}

// IncidentTiming judges an incident opened at opened (acknowledged at
// acked, resolved at resolved; zero when not yet) against its targets at
// now. A target is missed when it passed before the step was done, or is
// past now and the step is still not done.
func IncidentTiming(c Calendar, t Targets, opened, acked, resolved, now time.Time) Timing {
	tm := Timing{AckDue: c.Due(opened, t.Acknowledge), ResolveDue: c.Due(opened, t.Resolve)}
	// Resolving without an acknowledgement also answers the first target.
	ackAt := acked
	if ackAt.IsZero() {
		ackAt = resolved
	}
	if ackAt.IsZero() {
		tm.AckOverdue = now.After(tm.AckDue)
	} else {
		tm.AckOverdue = ackAt.After(tm.AckDue)
		tm.TimeToAck = c.Between(opened, ackAt)
	}
	if resolved.IsZero() {
		tm.ResolveOverdue = now.After(tm.ResolveDue)
	} else {
		tm.ResolveOverdue = resolved.After(tm.ResolveDue)
		tm.TimeToResolve = c.Between(opened, resolved)
	}
	return tm
}
