package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub/backup"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
	"github.com/sumbar-samsat/pkbkiosk/ui/dashboard"
)

const userUsage = `usage:
  kioskhub user add NAME --role uptd|sistim|admin [--office OFFICE[,OFFICE]] --data DIR [--password-stdin]
  kioskhub user disable|enable NAME --data DIR
Without --password-stdin a random password is generated and printed once.
A running hub takes the change within a second; a stopped one at its next start.`

// runUser implements "kioskhub user": dashboard users, recorded on
// HUB_EVENTS (DESIGN 7) so that a rebuild keeps them.
func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, userUsage)
		return errUsage
	}
	cmd := args[0]
	switch cmd {
	case "add", "disable", "enable":
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, userUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "kioskhub user: unknown command %q\n%s\n", cmd, userUsage)
		return errUsage
	}
	cfg := hubserver.DefaultConfig()
	fs := flag.NewFlagSet("kioskhub user "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Data, "data", "", "data directory of the hub (required)")
	role := fs.String("role", "", "uptd, sistim or admin")
	office := fs.String("office", "", "office code(s) of a uptd user, comma-separated")
	stdinPw := fs.Bool("password-stdin", false, "read the password from standard input (one line)")
	authFlags(fs, &cfg)
	name, err := parseNamed(fs, args[1:], "user name")
	if err != nil {
		return errUsage
	}
	if name == "" || cfg.Data == "" {
		fmt.Fprintf(stderr, "kioskhub user %s: NAME and --data are required\n%s\n", cmd, userUsage)
		return errUsage
	}
	var e hub.HubEvent
	generated := ""
	now := time.Now()
	if cmd == "add" {
		u := hubapi.User{Name: name, Role: *role}
		for _, o := range strings.Split(*office, ",") {
			if o = strings.TrimSpace(o); o != "" {
				u.Offices = append(u.Offices, o)
			}
		}
		pw := ""
		if *stdinPw {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				fmt.Fprintln(stderr, "kioskhub user add: reading the password:", err)
				return err
			}
			pw = strings.TrimRight(line, "\r\n")
		} else {
			pw = randomPassword()
			generated = pw
		}
		if len(pw) < dashboard.MinPasswordLen {
			fmt.Fprintf(stderr, "kioskhub user add: the password needs at least %d characters\n", dashboard.MinPasswordLen)
			return errUsage
		}
		u.Hash = "x" // checked below, hashed after the cheap checks
		if err := hubserver.CheckUser(u); err != nil {
			fmt.Fprintln(stderr, "kioskhub user add:", err)
			return errUsage
		}
		if u.Hash, err = dashboard.HashPassword(pw, 0); err != nil {
			fmt.Fprintln(stderr, "kioskhub user add:", err)
			return errUsage
		}
		e = hub.NewHubEvent(hub.HEUserAdded, "kioskhub-cli", now, hub.UserData{Role: u.Role, Offices: u.Offices, Hash: u.Hash})
	} else {
		e = hub.NewHubEvent(hub.HEUserDisabled, "kioskhub-cli", now, hub.DisabledData{Disabled: cmd == "disable"})
	}
	e.Target = name
	if err := record(ctx, cfg, e); err != nil {
		fmt.Fprintln(stderr, "kioskhub user:", err)
		return err
	}
	switch {
	case generated != "":
		fmt.Fprintf(stdout, "user %s (%s) added; password, shown only now:\n%s\n", name, *role, generated)
	case cmd == "add":
		fmt.Fprintf(stdout, "user %s (%s) added\n", name, *role)
	default:
		fmt.Fprintf(stdout, "user %s %sd; the user's sessions end now\n", name, cmd)
	}
	return nil
}

// record hands e to the running hub, or writes it into the stopped hub's
// stream.
func record(ctx context.Context, cfg hubserver.Config, e hub.HubEvent) error {
	if cfg.NATSURL == "" && hubserver.Running(cfg.Data) {
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		return hubserver.Spool(wctx, cfg.Data, e)
	}
	s, err := hubserver.OpenStreams(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Publish(ctx, e)
}

// randomPassword is 16 characters from an alphabet without look-alikes
// (no 0/O, 1/l/I), about 90 bits.
func randomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// runRebuild implements "kioskhub rebuild": drop the projection and replay
// the streams, without deciding or alerting anything.
func runRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := hubserver.DefaultConfig()
	fs := flag.NewFlagSet("kioskhub rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Data, "data", "", "data directory of the hub (required)")
	fs.StringVar(&cfg.NATSURL, "nats-url", "", "the hub's external NATS (cluster); default: the embedded server on --data")
	authFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || cfg.Data == "" {
		fmt.Fprintln(stderr, "usage: kioskhub rebuild --data DIR [--nats-url URL [--nats-creds FILE]]")
		return errUsage
	}
	if hubserver.Running(cfg.Data) {
		fmt.Fprintln(stderr, "kioskhub rebuild: a kioskhub is running with this data directory; stop it first (systemctl stop kioskhub)")
		return hubserver.ErrHubRunning
	}
	s, err := hubserver.OpenStreams(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "kioskhub rebuild:", err)
		return err
	}
	defer s.Close()
	stats, err := s.Rebuild(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "kioskhub rebuild:", err)
		return err
	}
	fmt.Fprintf(stdout, "rebuilt %s/hub.db: %d kiosk events (%d rejected), %d hub events, in %v; nothing was alerted\n",
		cfg.Data, stats.KioskEvents, stats.Rejected, stats.HubEvents, stats.Took.Round(time.Millisecond))
	return nil
}

// runRestore implements "kioskhub restore".
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kioskhub restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "data directory of the hub to restore into (required)")
	from := fs.String("from", "", "backup directory, e.g. /var/backups/kioskhub/20261123T020000Z (required)")
	force := fs.Bool("force", false, "move an existing auth/, nats/ and hub.db aside instead of refusing")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *data == "" || *from == "" {
		fmt.Fprintln(stderr, "usage: kioskhub restore --data DIR --from BACKUP_DIR [--force]")
		return errUsage
	}
	if hubserver.Running(*data) {
		fmt.Fprintln(stderr, "kioskhub restore: a kioskhub is running with this data directory; stop it first (systemctl stop kioskhub)")
		return hubserver.ErrHubRunning
	}
	m, err := backup.Restore(ctx, *from, *data, backup.RestoreOptions{Force: *force})
	if err != nil {
		fmt.Fprintln(stderr, "kioskhub restore:", err)
		return err
	}
	for _, s := range m.Streams {
		fmt.Fprintf(stdout, "stream %s: %d messages (seq %d..%d)\n", s.Name, s.State.Msgs, s.State.FirstSeq, s.State.LastSeq)
	}
	fmt.Fprintf(stdout, "restored the backup of %s into %s; start kioskhub\n", m.Created.Format(time.RFC3339), *data)
	return nil
}

// runBackup implements "kioskhub backup": one backup now, of a stopped hub
// (a running hub makes its own with --backup-dir).
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := hubserver.DefaultConfig()
	fs := flag.NewFlagSet("kioskhub backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Data, "data", "", "data directory of the hub (required)")
	to := fs.String("to", "", "backup target directory (required)")
	keep := fs.Int("keep", backup.DefaultKeep, "verified backups to keep")
	authFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || cfg.Data == "" || *to == "" {
		fmt.Fprintln(stderr, "usage: kioskhub backup --data DIR --to DIR [--keep 7]")
		return errUsage
	}
	if hubserver.Running(cfg.Data) {
		fmt.Fprintln(stderr, "kioskhub backup: the hub is running: it makes its own backups with --backup-dir (see its log and /metrics)")
		return hubserver.ErrHubRunning
	}
	s, err := hubserver.OpenStreams(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "kioskhub backup:", err)
		return err
	}
	defer s.Close()
	m, err := s.Backup(ctx, *to, *keep)
	if err != nil {
		fmt.Fprintln(stderr, "kioskhub backup:", err)
		return err
	}
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	fmt.Fprintf(stdout, "backup %s written and verified: %d files, %d bytes, in %s\n", m.Dir, len(m.Files), size, m.Took)
	return nil
}
