package backup

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// skipAuth reports whether a file of the auth directory stays out of a
// backup: natsauth's flock files (they say whether a hub runs here, which
// a restored copy must not claim) and its temporary files of an atomic
// write in progress (.name.tmp-…).
func skipAuth(name string) bool {
	base := path.Base(name)
	return base == "lock" || base == "running" || (strings.HasPrefix(base, ".") && strings.Contains(base, ".tmp-"))
}

// writeAuth writes the auth directory as a gzip'd tar to dst. It holds a
// shared flock on natsauth's update lock meanwhile, so an issue or revoke
// by `kioskhub creds` is either wholly in the backup or not at all.
func writeAuth(dir, dst string) (File, error) {
	if lf, err := os.Open(filepath.Join(dir, "lock")); err == nil {
		if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_SH); err != nil {
			lf.Close()
			return File{}, fmt.Errorf("backup: lock %s: %w", dir, err)
		}
		defer lf.Close() // releases the lock
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return File{}, fmt.Errorf("backup: %w", err)
	}
	err = tarDir(dir, out)
	if serr := out.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("backup: %w", serr)
	}
	if cerr := out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("backup: %w", cerr)
	}
	if err != nil {
		return File{}, err
	}
	return hashFile(dst)
}

func tarDir(dir string, w io.Writer) error {
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		name := filepath.ToSlash(rel)
		if skipAuth(name) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() && !info.IsDir() {
			return nil // nothing else belongs there
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = name
		hdr.Uname, hdr.Gname = "", ""
		if info.IsDir() {
			hdr.Name += "/"
			return tw.WriteHeader(hdr)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		// Exactly the size in the header: a file replaced meanwhile
		// (renamed over) keeps the content this descriptor opened.
		if _, err := io.CopyN(tw, f, hdr.Size); err != nil {
			return err
		}
		n++
		return nil
	})
	if err == nil && n == 0 {
		err = errors.New("no files")
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return fmt.Errorf("backup: archive %s: %w", dir, err)
	}
	return nil
}

// extractAuth unpacks an auth archive into dir, which must exist and be
// empty. Only plain files and directories inside dir are accepted; files
// get 0600 and directories 0700 whatever the archive says, as natsauth
// keeps them.
func extractAuth(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		name := path.Clean(hdr.Name)
		if !fs.ValidPath(name) || name == "." {
			return fmt.Errorf("unsafe name %q in the archive", hdr.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if serr := out.Sync(); err == nil {
				err = serr
			}
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unexpected entry type %q in the archive", hdr.Name, hdr.Typeflag)
		}
	}
	// Reading to the end checked the gzip CRC and length; trailing
	// garbage after the tar is an error too.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return err
	}
	return zr.Close()
}
