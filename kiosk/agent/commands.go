package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/outbox"
)

// The command service (DESIGN 4.5): the micro service "kiosk", one
// instance per kiosk, an endpoint per verb on kiosk.<id>.cmd.<verb>.
//
// Safety rules, in the order they are checked:
//   - A repeated Kiosk-Cmd-Id gets the first reply back, byte for byte,
//     and nothing runs again, also after an agent restart (the replies
//     are kept in SQLite).
//   - An expired command (Kiosk-Cmd-Expires, default 5 minutes after
//     receipt, judged by the kiosk's clock) is rejected.
//   - A restart never interrupts a taxpayer's session or a print unless
//     forced: it is deferred and runs when the kiosk is idle, or expires.
//   - The kiosk replies before it acts, and reports the result of what it
//     did after the reply as a command.result event.

// ErrRestart is returned by Run after a "restart agent" command: kioskd
// exits with code 3 and systemd starts it again.
var ErrRestart = errors.New("agent: restart requested")

// defaultCmdTTL is how long a command without Kiosk-Cmd-Expires stays valid.
const defaultCmdTTL = 5 * time.Minute

// Command states in the store.
const (
	cmdDone     = "done"     // finished with the reply
	cmdPending  = "pending"  // accepted, runs after the reply
	cmdDeferred = "deferred" // waits for the kiosk to be idle
	cmdFinished = "finished" // an accepted or deferred command has its command.result
)

const keyRestartCmd = "restart_cmd" // JSON restartMark: a restart agent/host in progress

// restartMark remembers a restart across it, for the next lifecycle.boot.
type restartMark struct {
	ID          string `json:"id"`
	Level       string `json:"level"`
	RequestedBy string `json:"requested_by,omitempty"`
}

// addCommandService registers the service; it works before the first
// connection too (the subscriptions are sent when it is made).
func (a *Agent) addCommandService() (micro.Service, error) {
	svc, err := micro.AddService(a.nc, micro.Config{
		Name:        "kiosk",
		Version:     kiosk.Version,
		Description: "PKB info kiosk " + a.cfg.ID,
		Metadata:    map[string]string{"id": a.cfg.ID, "office": a.cfg.Office, "version": kiosk.Version},
	})
	if err != nil {
		return nil, fmt.Errorf("agent: command service: %w", err)
	}
	for _, verb := range kiosk.Verbs {
		h := micro.HandlerFunc(func(r micro.Request) { a.handleCommand(verb, r) })
		if err := svc.AddEndpoint(verb, h, micro.WithEndpointSubject(kiosk.CommandSubject(a.cfg.ID, verb))); err != nil {
			svc.Stop()
			return nil, fmt.Errorf("agent: command service: %w", err)
		}
	}
	return svc, nil
}

// cmdRequest is one command as received.
type cmdRequest struct {
	id, verb, by string
	body         []byte
	received     time.Time
	expires      time.Time
	idempotent   bool // the sender gave an id
}

func (a *Agent) handleCommand(verb string, r micro.Request) {
	a.cmdMu.Lock()
	defer a.cmdMu.Unlock()
	ctx := context.Background()
	now := a.cfg.Now()
	req := cmdRequest{verb: verb, body: r.Data(), received: now, expires: now.Add(defaultCmdTTL)}
	h := r.Headers()
	req.id, req.by = h.Get(kiosk.HeaderCmdID), h.Get(kiosk.HeaderRequestedBy)
	req.idempotent = req.id != ""
	if !req.idempotent {
		b := make([]byte, 8)
		rand.Read(b)
		req.id = "k-" + hex.EncodeToString(b)
	}
	log := a.log.With("cmd_id", req.id, "verb", verb, "requested_by", req.by)
	respond := func(b []byte) {
		if err := r.Respond(b); err != nil {
			log.Warn("command reply not sent", "err", err)
		}
	}

	if req.idempotent {
		if len(req.id) > 128 {
			respond(a.replyJSON(kiosk.CommandReply{CmdID: req.id[:128], Outcome: kiosk.OutcomeRejected, Reason: "Kiosk-Cmd-Id longer than 128 characters"}))
			return
		}
		if c, err := a.store.CommandGet(ctx, req.id); err == nil {
			log.Info("command repeated; first reply returned", "state", c.State)
			respond(c.Reply)
			return
		} else if !errors.Is(err, outbox.ErrNotFound) {
			log.Warn("command store", "err", err)
		}
	}
	if v := h.Get(kiosk.HeaderCmdExpires); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeRejected,
				Reason: fmt.Sprintf("%s %q: want an RFC 3339 time like 2026-11-23T10:20:00+07:00", kiosk.HeaderCmdExpires, v)}, cmdDone, respond)
			return
		}
		req.expires = t
	}
	if !now.Before(req.expires) {
		a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeRejected,
			Reason: fmt.Sprintf("expired at %s (kiosk time %s)", req.expires.Format(time.RFC3339), now.In(a.cfg.TZ).Format(time.RFC3339))}, cmdDone, respond)
		return
	}

	switch verb {
	case kiosk.VerbStatus:
		st := a.status(ctx)
		a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeDone, Status: &st}, cmdDone, respond)
	case kiosk.VerbMaintenance:
		var m kiosk.MaintenanceRequest
		if err := strictJSON(req.body, &m); err != nil {
			a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeRejected,
				Reason: `want {"on":true|false,"message":"..."}: ` + err.Error()}, cmdDone, respond)
			return
		}
		if err := a.SetMaintenance(ctx, m.On, m.Message); err != nil {
			a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeRejected, Reason: "not stored: " + err.Error()}, cmdDone, respond)
			return
		}
		a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeDone}, cmdDone, respond)
	case kiosk.VerbDiag:
		d, err := a.diag(ctx)
		if err != nil {
			a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeRejected, Reason: err.Error()}, cmdDone, respond)
			return
		}
		// The bundle is not kept: a repeat gets a small note instead.
		rep := kiosk.CommandReply{CmdID: req.id, Outcome: kiosk.OutcomeDone, Diag: d}
		a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeDone, Reason: "diag bundle sent with the first reply"}, cmdDone, nil)
		respond(a.replyJSON(rep))
	case kiosk.VerbPrintTest:
		a.printTest(ctx, log, req, respond)
	case kiosk.VerbRestart:
		a.restartCommand(ctx, log, req, respond)
	}
}

// finishReply records the command with its reply (so a repeat gets the
// same) and sends the reply; respond nil only records.
func (a *Agent) finishReply(ctx context.Context, log interface{ Info(string, ...any) }, req cmdRequest, rep kiosk.CommandReply, state string, respond func([]byte)) {
	rep.CmdID = req.id
	b := a.replyJSON(rep)
	if req.idempotent {
		err := a.store.Update(ctx, func(tx *outbox.Tx) error {
			_, _, err := tx.CommandRecord(outbox.Command{ID: req.id, Verb: req.verb, Body: req.body, RequestedBy: req.by,
				ReceivedAt: req.received, ExpiresAt: req.expires, Reply: b, State: state})
			return err
		})
		if err != nil {
			a.log.Warn("command not recorded; a repeat of its id would run again", "cmd_id", req.id, "err", err)
		}
	}
	log.Info("command", "outcome", rep.Outcome, "reason", rep.Reason)
	if respond != nil {
		respond(b)
	}
}

func (a *Agent) replyJSON(rep kiosk.CommandReply) []byte {
	b, err := json.Marshal(rep)
	if err != nil {
		return []byte(`{"outcome":"rejected","reason":"reply not encodable"}`)
	}
	return b
}

func strictJSON(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// busy reports why a restart must wait: a taxpayer's session or a print.
func (a *Agent) busy() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.printingLocked():
		return "a slip is printing"
	case a.session != nil:
		return "a taxpayer session is open"
	}
	return ""
}

func (a *Agent) restartCommand(ctx context.Context, log interface{ Info(string, ...any) }, req cmdRequest, respond func([]byte)) {
	var rr kiosk.RestartRequest
	err := strictJSON(req.body, &rr)
	if err == nil {
		switch rr.Level {
		case kiosk.RestartUIReload, kiosk.RestartUI, kiosk.RestartAgent, kiosk.RestartHost:
		default:
			err = fmt.Errorf("level %q", rr.Level)
		}
	}
	if err != nil {
		a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeRejected,
			Reason: `want {"level":"ui-reload|ui|agent|host","force":false,"reason":"..."}: ` + err.Error()}, cmdDone, respond)
		return
	}
	if rr.Level == kiosk.RestartUI && !a.ui.canRestart() {
		a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeRejected,
			Reason: "no kioskui is running on this kiosk (no display, or --ui off); try ui-reload or agent"}, cmdDone, respond)
		return
	}
	if why := a.busy(); why != "" && !rr.Force {
		// Recorded first: a restart of the agent before it runs must not
		// forget it.
		req.idempotent = true
		a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeDeferred,
			Reason: why + "; runs when the kiosk is idle, before " + req.expires.In(a.cfg.TZ).Format(time.RFC3339)}, cmdDeferred, respond)
		return
	}
	if rr.Level == kiosk.RestartUIReload {
		a.Reload()
		a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeDone}, cmdDone, respond)
		return
	}
	req.idempotent = true // its result is reported against the record
	a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeAccepted}, cmdPending, respond)
	a.runRestart(ctx, req, rr)
}

// runRestart carries out an accepted (or formerly deferred) restart after
// its reply went out, and reports it.
func (a *Agent) runRestart(ctx context.Context, req cmdRequest, rr kiosk.RestartRequest) {
	switch rr.Level {
	case kiosk.RestartUIReload:
		a.Reload()
		a.commandResult(ctx, req, kiosk.OutcomeDone, "screens reloaded", nil)
	case kiosk.RestartUI:
		if !a.ui.requestRestart() {
			a.commandResult(ctx, req, kiosk.OutcomeFailed, "no kioskui was running", nil)
			return
		}
		a.commandResult(ctx, req, kiosk.OutcomeDone, "kioskui replaced", nil)
	case kiosk.RestartAgent:
		mark, _ := json.Marshal(restartMark{ID: req.id, Level: rr.Level, RequestedBy: req.by})
		a.commandResult(ctx, req, kiosk.OutcomeDone, "agent restarting (exit code 3)", func(tx *outbox.Tx) error {
			return tx.SetState(keyRestartCmd, string(mark))
		})
		a.exitCode.Store(3)
		a.stop() // Run returns ErrRestart after an orderly stop
	case kiosk.RestartHost:
		mark, _ := json.Marshal(restartMark{ID: req.id, Level: rr.Level, RequestedBy: req.by})
		if err := a.store.SetState(ctx, keyRestartCmd, string(mark)); err != nil {
			a.commandResult(ctx, req, kiosk.OutcomeFailed, "not recorded: "+err.Error(), nil)
			return
		}
		// Confirmed by the next lifecycle.boot carrying the command id.
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out, err := exec.CommandContext(cctx, a.cfg.HostRestart[0], a.cfg.HostRestart[1:]...).CombinedOutput()
		cancel()
		if err != nil {
			a.store.DeleteState(ctx, keyRestartCmd)
			detail := fmt.Sprintf("%s: %v: %s", strings.Join(a.cfg.HostRestart, " "), err, bytes.TrimSpace(out))
			a.commandResult(ctx, req, kiosk.OutcomeFailed, truncate(detail, 500), nil)
			return
		}
		a.log.Warn("host reboot requested", "cmd_id", req.id, "requested_by", req.by)
	}
}

// commandResult emits command.result for req and marks it finished, with
// extra state changes in the same transaction.
func (a *Agent) commandResult(ctx context.Context, req cmdRequest, outcome, detail string, also func(tx *outbox.Tx) error) {
	now := a.cfg.Now()
	d := kiosk.CommandResult{CmdID: req.id, Verb: req.verb, Outcome: outcome, Detail: detail, RequestedBy: req.by}
	err := a.store.Update(context.WithoutCancel(ctx), func(tx *outbox.Tx) error {
		if err := tx.CommandSetState(req.id, cmdFinished); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		_, err := tx.Emit(kiosk.EventCommand, now, a.envelope(kiosk.EventCommand, now, d))
		return err
	})
	if err != nil {
		a.log.Warn("command result not stored", "cmd_id", req.id, "err", err)
		return
	}
	a.log.Info("command result", "cmd_id", req.id, "verb", req.verb, "outcome", outcome, "detail", detail)
	a.kickDrain()
}

// commandLoop runs deferred commands once the kiosk is idle, and reports
// those that expire first. It also forgets old command ids.
func (a *Agent) commandLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.CommandCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cs, err := a.store.CommandsIn(ctx, cmdDeferred)
		if err != nil {
			a.log.Warn("deferred commands", "err", err)
			continue
		}
		for _, c := range cs {
			req := cmdRequest{id: c.ID, verb: c.Verb, by: c.RequestedBy, body: c.Body, received: c.ReceivedAt, expires: c.ExpiresAt, idempotent: true}
			if !a.cfg.Now().Before(c.ExpiresAt) {
				a.commandResult(ctx, req, kiosk.OutcomeExpired, "the kiosk was not idle before the command expired", nil)
				continue
			}
			if a.busy() != "" {
				continue
			}
			var rr kiosk.RestartRequest
			json.Unmarshal(c.Body, &rr) // validated when received
			a.cmdMu.Lock()
			a.runRestart(ctx, req, rr)
			a.cmdMu.Unlock()
		}
		a.store.CommandsPrune(ctx, a.cfg.Now().Add(-7*24*time.Hour))
	}
}

// printTest prints a test page and replies when it came out (done) or
// failed (rejected with the reason). It does not interrupt a taxpayer.
func (a *Agent) printTest(ctx context.Context, log interface{ Info(string, ...any) }, req cmdRequest, respond func([]byte)) {
	var pr kiosk.PrintTestRequest
	if len(bytes.TrimSpace(req.body)) > 0 {
		if err := strictJSON(req.body, &pr); err != nil {
			a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeRejected, Reason: `want {} or {"force":true}: ` + err.Error()}, cmdDone, respond)
			return
		}
	}
	reject := func(why string) {
		a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeRejected, Reason: why}, cmdDone, respond)
	}
	a.mu.Lock()
	p := a.printer
	a.mu.Unlock()
	switch {
	case a.cfg.OpenPrinter == nil:
		reject("no printer configured (--printer none)")
		return
	case !printReady(p):
		reject(fmt.Sprintf("printer not ready: connected %v, online %v, paper %s, cover open %v, error %q", p.Connected, p.Online, p.Paper, p.CoverOpen, p.Error))
		return
	}
	if why := a.busy(); why != "" && !pr.Force {
		reject(why + "; not printing over a taxpayer's visit (force to print anyway)")
		return
	}
	b := make([]byte, 8)
	rand.Read(b)
	j := &printJob{id: "test-" + hex.EncodeToString(b), state: jobQueued, test: true, done: make(chan struct{})}
	now := a.cfg.Now()
	if err := a.store.JobPut(ctx, outbox.Job{ID: j.id, State: jobQueued, CreatedAt: now, UpdatedAt: now}); err != nil {
		a.log.Warn("print job not stored", "err", err)
	}
	select {
	case a.jobs <- j:
	default:
		reject("print queue full")
		return
	}
	select {
	case <-j.done:
	case <-time.After(90 * time.Second):
		reject("the test page did not finish within 90 s")
		return
	}
	a.mu.Lock()
	state, reason := j.state, j.reason
	a.mu.Unlock()
	if state != jobDone {
		reject("test page failed: " + reason)
		return
	}
	a.finishReply(ctx, log, req, kiosk.CommandReply{Outcome: kiosk.OutcomeDone, Reason: "test page printed"}, cmdDone, respond)
}

// maxDiag bounds the diag bundle (DESIGN 4.5).
const maxDiag = 256 << 10

// diag builds the support bundle: versions, configuration without
// secrets, store figures, status and the last log lines; no personal data
// (the logs carry plates only as keyed hashes).
func (a *Agent) diag(ctx context.Context) (json.RawMessage, error) {
	type storeFigures struct {
		File          string `json:"file"`
		Bytes         int64  `json:"bytes"`
		CachedResults int    `json:"cached_results"`
		OutboxPending int64  `json:"outbox_pending"`
	}
	bundle := struct {
		Version string            `json:"version"`
		Go      string            `json:"go"`
		OS      string            `json:"os"`
		Config  map[string]string `json:"config"`
		Store   storeFigures      `json:"store"`
		Status  kiosk.Status      `json:"status"`
		Log     []string          `json:"log"`
	}{Version: kiosk.Version, Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, Config: a.cfg.public(), Status: a.status(ctx)}
	bundle.Store.File = a.store.Path()
	if fi, err := os.Stat(a.store.Path()); err == nil {
		bundle.Store.Bytes = fi.Size()
	}
	bundle.Store.CachedResults, _ = a.store.CacheLen(ctx)
	bundle.Store.OutboxPending, _ = a.store.Pending(ctx)
	bundle.Log = a.logs.Lines()
	for {
		b, err := json.Marshal(bundle)
		if err != nil {
			return nil, fmt.Errorf("diag: %w", err)
		}
		if len(b) <= maxDiag-1024 || len(bundle.Log) == 0 {
			return b, nil
		}
		bundle.Log = bundle.Log[len(bundle.Log)/4+1:] // oldest lines go first
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// public returns the configuration for the diag bundle. It holds no
// secret (Creds is the path of the credentials file, not its contents;
// the cache key lives in its own file); hooks and clients are left out.
func (c Config) public() map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(c)
	for i := range v.NumField() {
		f, fv := v.Type().Field(i), v.Field(i)
		switch fv.Kind() {
		case reflect.Func, reflect.Interface:
			continue
		case reflect.Pointer:
			if loc, ok := fv.Interface().(*time.Location); ok && loc != nil {
				out[f.Name] = loc.String()
			}
			continue
		case reflect.Slice:
			if f.Type.Elem().Kind() != reflect.String {
				continue
			}
		}
		out[f.Name] = fmt.Sprint(fv.Interface())
	}
	return out
}
