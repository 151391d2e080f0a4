package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsauth"
)

const credsUsage = `usage:
  kioskhub creds issue KIOSK_ID --office OFFICE --data DIR --out FILE [--replace] [--valid-for 8760h]
  kioskhub creds operator NAME --data DIR --out FILE [--replace] [--valid-for 8760h]
  kioskhub creds revoke KIOSK_ID|NAME|PUBLIC_KEY --data DIR [--nats-url URL [--nats-ca FILE]]
  kioskhub creds ls --data DIR
--out - writes the .creds file to standard output.`

// runCreds implements "kioskhub creds": NATS credentials in operator mode
// (DESIGN 4.7), kept in <data>/auth (sync/natsauth). Issuing works while
// the hub runs, without a restart; a revocation is applied by the running
// hub within a second (the command waits for it) or at its next start.
func runCreds(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, credsUsage)
		return errUsage
	}
	switch args[0] {
	case "issue", "operator":
		return runIssue(args[0], args[1:], stdout, stderr)
	case "revoke":
		return runRevoke(ctx, args[1:], stdout, stderr)
	case "ls":
		return runCredsList(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, credsUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "kioskhub creds: unknown command %q\n%s\n", args[0], credsUsage)
		return errUsage
	}
}

// parseNamed parses "NAME --flags..." as well as "--flags... NAME": the
// one positional argument may come first (as DESIGN 9 writes it) or last.
func parseNamed(fs *flag.FlagSet, args []string, what string) (string, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", errUsage
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
		fs.Parse(fs.Args()[1:])
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return "", errUsage
	}
	if name == "" {
		fmt.Fprintf(fs.Output(), "%s: %s is required\n%s\n", fs.Name(), what, credsUsage)
		return "", errUsage
	}
	return name, nil
}

// openAuth opens <data>/auth. The data directory must exist: a mistyped
// --data would otherwise make a new operator whose credentials no hub
// trusts.
func openAuth(name, data string, stderr io.Writer) (*natsauth.Auth, error) {
	if data == "" {
		fmt.Fprintf(stderr, "%s: --data is required (the hub's data directory)\n", name)
		return nil, errUsage
	}
	if st, err := os.Stat(data); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "%s: --data %s is not a directory: give the hub's data directory\n", name, data)
		return nil, errUsage
	}
	a, err := natsauth.Open(filepath.Join(data, "auth"))
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return nil, err
	}
	if a.Created() {
		fmt.Fprintf(stderr, "%s: created a new NATS operator and account in %s (first use); a hub started with --data %s trusts them\n", name, a.Dir(), data)
	}
	return a, nil
}

func runIssue(cmd string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kioskhub creds "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "the hub's data directory (required)")
	out := fs.String("out", "", "where to write the .creds file, mode 0600 (required; - for standard output)")
	replace := fs.Bool("replace", false, "revoke the earlier credentials of this name in the same step")
	validFor := fs.Duration("valid-for", natsauth.DefaultValidity, "how long the credential is valid (the renewal cycle); the hub warns ahead of its expiry")
	var office *string
	what := "NAME"
	if cmd == "issue" {
		office = fs.String("office", "", "office (UPTD) code of the kiosk (required)")
		what = "KIOSK_ID"
	}
	name, err := parseNamed(fs, args, what)
	if err != nil {
		return err
	}
	label := "kiosk id"
	if cmd == "operator" {
		label = "operator name"
	}
	if err := kiosk.CheckID(label, name); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return errUsage
	}
	if office != nil {
		if err := kiosk.CheckID("--office", *office); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
			return errUsage
		}
	}
	if *out == "" {
		fmt.Fprintf(stderr, "%s: --out FILE is required\n", fs.Name())
		return errUsage
	}
	if *validFor < time.Second {
		fmt.Fprintf(stderr, "%s: --valid-for %v: must be at least 1s (e.g. 8760h for a year)\n", fs.Name(), *validFor)
		return errUsage
	}
	a, err := openAuth(fs.Name(), *data, stderr)
	if err != nil {
		return err
	}
	var creds []byte
	var u natsauth.User
	if cmd == "issue" {
		creds, u, err = a.IssueKiosk(name, *office, *replace, natsauth.ValidFor(*validFor))
	} else {
		creds, u, err = a.IssueOperator(name, *replace, natsauth.ValidFor(*validFor))
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return err
	}
	msg := stdout
	if *out == "-" {
		stdout.Write(creds)
		msg = stderr
	} else if err := natsauth.WriteFile(*out, creds); err != nil {
		fmt.Fprintf(stderr, "%s: %v (the credential is registered; revoke %s or issue again)\n", fs.Name(), err, u.PublicKey)
		return err
	}
	switch u.Kind {
	case natsauth.KindKiosk:
		fmt.Fprintf(msg, "issued kiosk %s (office %s), user key %s", u.Name, u.Office, u.PublicKey)
	default:
		fmt.Fprintf(msg, "issued operator %s, user key %s", u.Name, u.PublicKey)
	}
	if *out != "-" {
		fmt.Fprintf(msg, ", written to %s", *out)
	}
	fmt.Fprintf(msg, "; valid now until %s (renew before; revoking ends it earlier)\n", u.Expires.Format(time.RFC3339))
	if !*replace {
		if n := validOthers(a, u); n > 0 {
			fmt.Fprintf(msg, "note: %d earlier credential(s) of %s stay valid; `kioskhub creds revoke KEY` revokes one (`creds ls` lists them), --replace all of them\n", n, u.Name)
		}
	}
	return nil
}

// validOthers counts the other valid credentials of u's name.
func validOthers(a *natsauth.Auth, u natsauth.User) int {
	users, err := a.Users()
	if err != nil {
		return 0
	}
	n := 0
	for _, o := range users {
		if o.Name == u.Name && o.PublicKey != u.PublicKey && o.Valid() {
			n++
		}
	}
	return n
}

func runRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kioskhub creds revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "the hub's data directory (required)")
	url := fs.String("nats-url", "", "also push the account to these servers as the system user (an external cluster, or a hub elsewhere)")
	ca := fs.String("nats-ca", "", "CA file of the servers' TLS certificates (with --nats-url)")
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for the running hub (or --nats-url) to apply the revocation")
	name, err := parseNamed(fs, args, "KIOSK_ID|NAME|PUBLIC_KEY")
	if err != nil {
		return err
	}
	a, err := openAuth(fs.Name(), *data, stderr)
	if err != nil {
		return err
	}
	revoked, err := a.Revoke(name)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return err
	}
	if len(revoked) == 0 {
		fmt.Fprintf(stdout, "%s: every credential of %s is revoked already; nothing changed\n", fs.Name(), name)
		return nil
	}
	for _, u := range revoked {
		fmt.Fprintf(stdout, "revoked %s %s, user key %s (issued %s)\n", u.Kind, u.Name, u.PublicKey, u.IssuedAt.Format(time.RFC3339))
	}
	wctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	if *url != "" {
		if err := a.PushTo(wctx, *url, *ca); err != nil {
			fmt.Fprintf(stderr, "%s: the revocation is saved in %s but %s did not take it: %v\n", fs.Name(), a.Dir(), *url, err)
			return err
		}
		fmt.Fprintf(stdout, "%s applied it: connections of the revoked credentials are closed\n", *url)
		return nil
	}
	running, err := a.Running()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return err
	}
	if !running {
		fmt.Fprintf(stdout, "no hub with an embedded NATS server is running on %s: the revocation applies when it starts (for an external cluster, give --nats-url)\n", *data)
		return nil
	}
	if err := a.WaitApplied(wctx, revoked); err != nil {
		fmt.Fprintf(stderr, "%s: the revocation is saved in %s, but the running hub has not applied it within %v; see the hub's log (it applies it at the latest when it restarts)\n", fs.Name(), a.Dir(), *wait)
		return err
	}
	fmt.Fprintln(stdout, "the running hub applied it: connections of the revoked credentials are closed")
	return nil
}

func runCredsList(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kioskhub creds ls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "the hub's data directory (required)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	a, err := openAuth(fs.Name(), *data, stderr)
	if err != nil {
		return err
	}
	users, err := a.Users()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	now := time.Now()
	fmt.Fprintln(tw, "NAME\tKIND\tOFFICE\tISSUED\tEXPIRES\tSTATE\tUSER KEY")
	for _, u := range users {
		state := "valid"
		switch {
		case !u.Valid():
			state = "revoked " + u.RevokedAt.Format(time.RFC3339)
		case u.Expired(now):
			state = "expired"
		}
		office := u.Office
		if office == "" {
			office = "-"
		}
		// Credentials issued before expiry existed never expire.
		expires := "never"
		if !u.Expires.IsZero() {
			expires = u.Expires.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Kind, office, u.IssuedAt.Format(time.RFC3339), expires, state, u.PublicKey)
	}
	return tw.Flush()
}

// authFlags defines the hub daemon's flags of NATS security (DESIGN 4.7).
func authFlags(fs *flag.FlagSet, cfg *hubserver.Config) {
	fs.BoolVar(&cfg.Auth, "auth", cfg.Auth, "embedded NATS in operator (JWT) mode: every client needs a .creds file from `kioskhub creds` (false only for trials)")
	fs.StringVar(&cfg.TLSCert, "nats-tls-cert", "", "server certificate (PEM) of the embedded NATS listener, from your private CA")
	fs.StringVar(&cfg.TLSKey, "nats-tls-key", "", "private key (PEM) of --nats-tls-cert")
	fs.StringVar(&cfg.TLSClientCA, "nats-tls-ca", "", "also require client certificates signed by this CA (PEM)")
	fs.BoolVar(&cfg.Insecure, "nats-insecure", false, "allow --nats-listen beyond loopback without TLS (traffic in clear)")
	fs.StringVar(&cfg.NATSCreds, "nats-creds", "", "with --nats-url: the hub's .creds on the cluster (<data>/auth/hub.creds)")
	fs.StringVar(&cfg.NATSCA, "nats-ca", "", "with --nats-url: CA file of the cluster's TLS certificates")
}
