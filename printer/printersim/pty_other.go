//go:build !linux

package printersim

import (
	"errors"
	"os"
)

// openPTY is Linux-only (TIOCSPTLCK, TIOCGPTN); TCP works everywhere.
func openPTY() (master, slave *os.File, pts string, err error) {
	return nil, nil, "", errors.New("pty not supported on this system")
}
