package agent

import (
	"context"
	"errors"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/outbox"
)

// How the previous run of the agent ended (DESIGN 4.2 lifecycle.boot).
const (
	shutdownFirst = "first" // a new store: there was no previous run
	shutdownClean = "clean" // an orderly stop wrote the marker
	shutdownCrash = "crash" // the agent died, the machine did not (same kernel boot)
	shutdownPower = "power" // the machine went down without an orderly stop
)

// bootInfo is the verdict on the previous shutdown.
type bootInfo struct {
	Prev      string
	LastAlive time.Time // last heartbeat of the previous run (power, crash)
	BootAt    time.Time // when this run started
	OutageS   int64     // LastAlive to BootAt, whole seconds (power only)
}

// classifyBoot is a pure function of what the store remembers of the
// previous run and what this run sees. A previous run that stopped in
// order left the clean marker. Without it, the same kernel boot id means
// only the agent died; a different one means the whole machine went down
// (power cut, hard reset). When the boot id cannot be read, power and crash
// cannot be told apart; it is reported as crash, the smaller claim.
func classifyBoot(havePrev bool, prevBoot, curBoot string, clean bool, lastAlive, now time.Time) bootInfo {
	b := bootInfo{BootAt: now, LastAlive: lastAlive}
	switch {
	case !havePrev:
		b.Prev = shutdownFirst
	case clean:
		b.Prev = shutdownClean
	case curBoot == "" || prevBoot == "" || prevBoot == curBoot:
		b.Prev = shutdownCrash
	default:
		b.Prev = shutdownPower
		if !lastAlive.IsZero() && now.After(lastAlive) {
			b.OutageS = int64(now.Sub(lastAlive) / time.Second)
		}
	}
	return b
}

// State keys of the lifecycle.
const (
	keyBootID    = "boot_id"        // kernel boot id of the last run
	keyClean     = "clean_shutdown" // "1" after an orderly stop, "0" while running
	keyLastAlive = "last_alive"     // RFC 3339 with ms, written with every heartbeat
)

// startLifecycle reads how the previous run ended and marks this run as
// running (clean marker off, boot id stored) in one transaction.
func (a *Agent) startLifecycle(ctx context.Context) (bootInfo, error) {
	get := func(k string) (string, bool, error) {
		v, err := a.store.State(ctx, k)
		if errors.Is(err, outbox.ErrNotFound) {
			return "", false, nil
		}
		return v, err == nil, err
	}
	prevBoot, havePrev, err := get(keyBootID)
	if err != nil {
		return bootInfo{}, err
	}
	clean, _, err := get(keyClean)
	if err != nil {
		return bootInfo{}, err
	}
	alive, _, err := get(keyLastAlive)
	if err != nil {
		return bootInfo{}, err
	}
	lastAlive, _ := time.Parse(time.RFC3339Nano, alive)
	b := classifyBoot(havePrev, prevBoot, a.boot, clean == "1", lastAlive, a.cfg.Now())
	return b, a.emitBoot(ctx, b)
}

// markAlive records that the agent was alive now (after a power cut the
// outage window starts at the last of these) and saves the usage counts,
// emitting the summary of an hour that has ended.
func (a *Agent) markAlive(ctx context.Context) {
	now := a.cfg.Now()
	var commit func()
	err := a.store.Update(ctx, func(tx *outbox.Tx) error {
		if err := tx.SetState(keyLastAlive, now.UTC().Format(time.RFC3339Nano)); err != nil {
			return err
		}
		var err error
		commit, err = a.saveUsage(tx, now)
		return err
	})
	if err != nil {
		a.log.Debug("last-alive not written", "err", err)
		return
	}
	commit()
}

// markCleanStop is the last write of an orderly stop: the marker and the
// lifecycle.shutdown event in one transaction (sent at the next start).
func (a *Agent) markCleanStop(ctx context.Context, reason string) {
	now := a.cfg.Now()
	err := a.store.Update(ctx, func(tx *outbox.Tx) error {
		if err := tx.SetState(keyLastAlive, now.UTC().Format(time.RFC3339Nano)); err != nil {
			return err
		}
		if err := tx.SetState(keyClean, "1"); err != nil {
			return err
		}
		if _, err := a.saveUsage(tx, now); err != nil {
			return err
		}
		_, err := tx.Emit(kiosk.EventShutdown, now, a.envelope(kiosk.EventShutdown, now, map[string]string{"reason": reason}))
		return err
	})
	if err != nil {
		a.log.Warn("clean-shutdown marker not written", "err", err)
	}
}
