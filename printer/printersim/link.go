package printersim

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// linkPTY points the symlink link at target, atomically: a temporary
// symlink renamed over the old one. Parent directories are created. An
// existing file that is not a symlink is left alone and reported.
func linkPTY(link, target string) error {
	if fi, err := os.Lstat(link); err == nil && fi.Mode()&os.ModeSymlink == 0 {
		return fmt.Errorf("%s exists and is not a symlink", link)
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	tmp := link + ".tmp" + strconv.Itoa(os.Getpid())
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// unlinkPTY removes the symlink if it still points at target (another
// simulator may have taken the path over since).
func unlinkPTY(link, target string) {
	if got, err := os.Readlink(link); err == nil && got == target {
		os.Remove(link)
	}
}
