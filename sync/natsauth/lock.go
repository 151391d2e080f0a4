package natsauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/nats-io/jwt/v2"
)

// ErrHubRunning is returned by LockRunning when a hub already uses the
// directory.
var ErrHubRunning = errors.New("natsauth: another kioskhub is running with this data directory")

// lock takes the exclusive update lock of the directory; the returned
// function releases it.
func (a *Auth) lock() (func(), error) {
	f, err := os.OpenFile(a.path(lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("natsauth: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("natsauth: lock: %w", err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// LockRunning marks the directory as used by a running hub until the
// returned function is called (or the process ends: the kernel drops the
// lock of a crashed hub). `kioskhub creds revoke` asks Running to know
// whether to wait for the hub to apply a revocation.
func (a *Auth) LockRunning() (release func(), err error) {
	f, err := os.OpenFile(a.path(runningFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("natsauth: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrHubRunning
		}
		return nil, fmt.Errorf("natsauth: %w", err)
	}
	return func() { f.Close() }, nil
}

// Running reports whether a hub holds LockRunning on the directory.
func (a *Auth) Running() (bool, error) {
	f, err := os.OpenFile(a.path(runningFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return false, fmt.Errorf("natsauth: %w", err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("natsauth: %w", err)
	}
	return false, nil
}

// MarkApplied records that the running server has account JWT token (the
// hub calls it after a successful Push).
func (a *Auth) MarkApplied(token string) error {
	return WriteFile(a.path(appliedFile), []byte(token+"\n"))
}

// Applied returns the account JWT the running hub last applied, "" if none.
func (a *Auth) Applied() (string, error) {
	b, err := os.ReadFile(a.path(appliedFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("natsauth: %w", err)
	}
	return string(bytes.TrimSpace(b)), nil
}

// WaitApplied waits until the account JWT the running hub applied revokes
// every credential in revoked (or a later one does), polling the applied
// marker; it fails when ctx ends first.
func (a *Auth) WaitApplied(ctx context.Context, revoked []User) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if token, err := a.Applied(); err == nil && token != "" {
			if ac, err := jwt.DecodeAccountClaims(token); err == nil && revokesAll(ac, revoked) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("natsauth: the running hub has not applied the revocation: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func revokesAll(ac *jwt.AccountClaims, users []User) bool {
	for _, u := range users {
		if ac.Revocations.IsRevoked(u.PublicKey, u.IssuedAt) {
			continue
		}
		return false
	}
	return true
}
