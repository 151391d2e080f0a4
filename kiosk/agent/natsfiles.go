package agent

import (
	"errors"
	"fmt"
	"os"
)

// checkNATSFiles checks the NATS credential and TLS files of cfg: a
// missing or unreadable file is a configuration error (exit 2), not a
// connection that fails and retries forever.
func checkNATSFiles(cfg Config) []error {
	var errs []error
	if (cfg.NATSCert == "") != (cfg.NATSKey == "") {
		errs = append(errs, errors.New("--nats-cert and --nats-key go together"))
	}
	for _, f := range []struct{ flag, path string }{
		{"--creds", cfg.Creds}, {"--nats-ca", cfg.NATSCA}, {"--nats-cert", cfg.NATSCert}, {"--nats-key", cfg.NATSKey},
	} {
		if f.path == "" {
			continue
		}
		fh, err := os.Open(f.path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.flag, err))
			continue
		}
		fh.Close()
	}
	return errs
}
