// Package natsauth keeps the hub's NATS trust material for operator (JWT)
// mode (DESIGN 4.7): the operator, the account KIOSK that every kiosk,
// operator and the hub itself live in, the system account, and a registry
// of the users issued, in one directory of the hub's data (<data>/auth).
//
// # Concepts
//
// The operator key signs the account JWTs; the KIOSK account key signs
// user JWTs. A user's .creds file (JWT + NKey seed, github.com/nats-io/jwt/v2
// FormatUserConfig) is verified by the server against the account JWT, so
// issuing needs no change on the server. Revoking a user adds its public
// key to the account JWT's revocations; the server must then be given the
// new account JWT: the running hub watches account.jwt and pushes it to
// its server through the system account ($SYS.REQ.CLAIMS.UPDATE, see
// Push), and a (re)starting hub loads it.
//
// Files (directory 0700, files 0600):
//
//	operator.nk operator.jwt   operator seed and self-signed JWT
//	account.nk  account.jwt    account KIOSK, signed by the operator
//	system.nk   system.jwt     system account SYS, signed by the operator
//	hub.creds                  the hub's own user in KIOSK (no restrictions)
//	sys.creds                  a user of SYS, to push account updates
//	users.json                 registry of issued users: name, kind, key
//	applied                    id of the account JWT the running hub applied
//	lock, running              flock(2) files: updates, "a hub runs here"
//
// Several processes use the directory at once (the hub, `kioskhub creds`):
// every read-modify-write holds an exclusive flock on "lock" and every file
// is replaced by rename, so readers never see half a file.
package natsauth

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Names inside the trust chain.
const (
	OperatorName = "kioskhub"     // operator JWT name
	AccountName  = "KIOSK"        // the account of kiosks, operators and the hub
	SystemName   = "SYS"          // the system account
	HubUser      = "kioskhub"     // the hub's own user in KIOSK
	SysUser      = "kioskhub-sys" // the system account's user
)

// File names in the directory.
const (
	operatorSeedFile = "operator.nk"
	operatorJWTFile  = "operator.jwt"
	accountSeedFile  = "account.nk"
	accountJWTFile   = "account.jwt"
	systemSeedFile   = "system.nk"
	systemJWTFile    = "system.jwt"
	hubCredsFile     = "hub.creds"
	sysCredsFile     = "sys.creds"
	usersFile        = "users.json"
	appliedFile      = "applied"
	lockFile         = "lock"
	runningFile      = "running"
)

// ErrCorrupt is returned by Open when the directory exists but its
// material is missing or does not fit together.
var ErrCorrupt = errors.New("natsauth: trust material is incomplete or corrupt")

// Auth is the trust material in one directory. Its keys are read once by
// Open; the account JWT and the registry are read from disk at every use,
// since another process may have changed them.
type Auth struct {
	dir     string
	created bool

	operator    nkeys.KeyPair
	operatorJWT *jwt.OperatorClaims
	account     nkeys.KeyPair
	accountPub  string
	system      nkeys.KeyPair
	systemPub   string
	systemJWT   string
}

// Open opens the trust material in dir, creating it on first use (dir
// does not exist yet). A directory that exists but is incomplete is an
// error wrapping ErrCorrupt, never silently replaced: new keys would make
// every issued .creds file worthless.
func Open(dir string) (*Auth, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := create(dir); err != nil {
			return nil, err
		}
		a, err := load(dir)
		if a != nil {
			a.created = true
		}
		return a, err
	} else if err != nil {
		return nil, fmt.Errorf("natsauth: %w", err)
	}
	return load(dir)
}

// Dir is the directory of the material.
func (a *Auth) Dir() string { return a.dir }

// Created reports whether Open created the material (first use).
func (a *Auth) Created() bool { return a.created }

// Operator returns the operator's claims, for the server's trusted
// operators.
func (a *Auth) Operator() *jwt.OperatorClaims { return a.operatorJWT }

// AccountPublicKey is the public key (the server's name) of the account KIOSK.
func (a *Auth) AccountPublicKey() string { return a.accountPub }

// SystemAccount returns the system account's public key and JWT.
func (a *Auth) SystemAccount() (pub, token string) { return a.systemPub, a.systemJWT }

// AccountJWT returns the current JWT of the account KIOSK, revocations
// included, as stored now.
func (a *Auth) AccountJWT() (string, error) {
	b, err := os.ReadFile(a.path(accountJWTFile))
	if err != nil {
		return "", fmt.Errorf("natsauth: %w", err)
	}
	token := string(bytes.TrimSpace(b))
	if _, err := a.decodeAccount(token); err != nil {
		return "", a.corrupt(accountJWTFile, err)
	}
	return token, nil
}

// corrupt is the error for a file of the material that is missing or
// wrong, with the way out.
func (a *Auth) corrupt(file string, err error) error {
	return fmt.Errorf("%w: %s: %w (restore the directory from a backup; new keys would invalidate every issued .creds file)",
		ErrCorrupt, a.path(file), err)
}

// HubCreds is the path of the hub's own .creds file.
func (a *Auth) HubCreds() string { return a.path(hubCredsFile) }

// SysCreds is the path of the system user's .creds file.
func (a *Auth) SysCreds() string { return a.path(sysCredsFile) }

func (a *Auth) path(name string) string { return filepath.Join(a.dir, name) }

// create writes fresh material into a temporary directory next to dir and
// renames it into place, so a crash never leaves half of it behind.
func create(dir string) (err error) {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return fmt.Errorf("natsauth: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dir)+".new-")
	if err != nil {
		return fmt.Errorf("natsauth: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o700); err != nil {
		return fmt.Errorf("natsauth: %w", err)
	}
	op, err := nkeys.CreateOperator()
	if err != nil {
		return fmt.Errorf("natsauth: operator key: %w", err)
	}
	acc, err := nkeys.CreateAccount()
	if err != nil {
		return fmt.Errorf("natsauth: account key: %w", err)
	}
	sys, err := nkeys.CreateAccount()
	if err != nil {
		return fmt.Errorf("natsauth: system account key: %w", err)
	}
	opPub, _ := op.PublicKey()
	accPub, _ := acc.PublicKey()
	sysPub, _ := sys.PublicKey()

	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = OperatorName
	oc.SystemAccount = sysPub
	opJWT, err := oc.Encode(op)
	if err != nil {
		return fmt.Errorf("natsauth: operator jwt: %w", err)
	}
	ac := jwt.NewAccountClaims(accPub)
	ac.Name = AccountName
	// JetStream on, bounded by the server's own limits (-1: no account
	// limit of its own).
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	accJWT, err := ac.Encode(op)
	if err != nil {
		return fmt.Errorf("natsauth: account jwt: %w", err)
	}
	sc := jwt.NewAccountClaims(sysPub)
	sc.Name = SystemName
	sysJWT, err := sc.Encode(op)
	if err != nil {
		return fmt.Errorf("natsauth: system account jwt: %w", err)
	}
	hubCreds, _, err := issueUser(acc, HubUser, nil, nil)
	if err != nil {
		return err
	}
	sysCreds, _, err := issueUser(sys, SysUser, nil, nil)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{operatorSeedFile, seedOf(op)},
		{operatorJWTFile, []byte(opJWT + "\n")},
		{accountSeedFile, seedOf(acc)},
		{accountJWTFile, []byte(accJWT + "\n")},
		{systemSeedFile, seedOf(sys)},
		{systemJWTFile, []byte(sysJWT + "\n")},
		{hubCredsFile, hubCreds},
		{sysCredsFile, sysCreds},
		{usersFile, []byte("[]\n")},
	}
	for _, f := range files {
		if err := WriteFile(filepath.Join(tmp, f.name), f.data); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, operatorSeedFile)); serr == nil {
			// Another process created it first: use theirs.
			os.RemoveAll(tmp)
			return nil
		}
		return fmt.Errorf("natsauth: %w", err)
	}
	return syncDir(parent)
}

func seedOf(kp nkeys.KeyPair) []byte {
	s, _ := kp.Seed()
	return append(s, '\n')
}

// load reads and cross-checks the material in dir.
func load(dir string) (*Auth, error) {
	a := &Auth{dir: dir}
	corrupt := a.corrupt
	var err error
	if a.operator, err = readSeed(filepath.Join(dir, operatorSeedFile), nkeys.PrefixByteOperator); err != nil {
		return nil, corrupt(operatorSeedFile, err)
	}
	if a.account, err = readSeed(filepath.Join(dir, accountSeedFile), nkeys.PrefixByteAccount); err != nil {
		return nil, corrupt(accountSeedFile, err)
	}
	if a.system, err = readSeed(filepath.Join(dir, systemSeedFile), nkeys.PrefixByteAccount); err != nil {
		return nil, corrupt(systemSeedFile, err)
	}
	opPub, _ := a.operator.PublicKey()
	a.accountPub, _ = a.account.PublicKey()
	a.systemPub, _ = a.system.PublicKey()

	b, err := os.ReadFile(filepath.Join(dir, operatorJWTFile))
	if err != nil {
		return nil, corrupt(operatorJWTFile, err)
	}
	if a.operatorJWT, err = jwt.DecodeOperatorClaims(string(bytes.TrimSpace(b))); err != nil {
		return nil, corrupt(operatorJWTFile, err)
	}
	if a.operatorJWT.Subject != opPub || a.operatorJWT.SystemAccount != a.systemPub {
		return nil, corrupt(operatorJWTFile, errors.New("does not belong to operator.nk and system.nk"))
	}
	if _, err := a.AccountJWT(); err != nil {
		return nil, err
	}
	b, err = os.ReadFile(filepath.Join(dir, systemJWTFile))
	if err != nil {
		return nil, corrupt(systemJWTFile, err)
	}
	a.systemJWT = string(bytes.TrimSpace(b))
	sc, err := jwt.DecodeAccountClaims(a.systemJWT)
	if err != nil {
		return nil, corrupt(systemJWTFile, err)
	}
	if sc.Subject != a.systemPub || sc.Issuer != opPub {
		return nil, corrupt(systemJWTFile, errors.New("does not belong to system.nk and operator.nk"))
	}
	for _, c := range []struct {
		file, issuer string
	}{{hubCredsFile, a.accountPub}, {sysCredsFile, a.systemPub}} {
		b, err := os.ReadFile(filepath.Join(dir, c.file))
		if err != nil {
			return nil, corrupt(c.file, err)
		}
		token, err := jwt.ParseDecoratedJWT(b)
		if err != nil {
			return nil, corrupt(c.file, err)
		}
		uc, err := jwt.DecodeUserClaims(token)
		if err != nil {
			return nil, corrupt(c.file, err)
		}
		if uc.Issuer != c.issuer {
			return nil, corrupt(c.file, errors.New("not issued by this directory's account"))
		}
	}
	if _, err := a.readUsers(); err != nil {
		return nil, err
	}
	return a, nil
}

// decodeAccount decodes an account JWT and checks that it is KIOSK's,
// signed by this operator.
func (a *Auth) decodeAccount(token string) (*jwt.AccountClaims, error) {
	ac, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return nil, err
	}
	opPub, _ := a.operator.PublicKey()
	if ac.Subject != a.accountPub || ac.Issuer != opPub {
		return nil, errors.New("does not belong to account.nk and operator.nk")
	}
	return ac, nil
}

func readSeed(path string, want nkeys.PrefixByte) (nkeys.KeyPair, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seed := bytes.TrimSpace(b)
	_, err = nkeys.Decode(nkeys.PrefixByteSeed, seed)
	if err != nil {
		return nil, fmt.Errorf("not an nkey seed: %w", err)
	}
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("not an nkey seed: %w", err)
	}
	if err := nkeys.CompatibleKeyPair(kp, want); err != nil {
		return nil, fmt.Errorf("seed of the wrong kind: %w", err)
	}
	return kp, nil
}

// WriteFile writes data to path with mode 0600, atomically: a temporary
// file next to it, synced and renamed over path, so a reader (a kiosk
// reading its .creds, the hub reading account.jwt) never sees half of it.
func WriteFile(path string, data []byte) error {
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("natsauth: write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("natsauth: write %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("natsauth: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !strings.Contains(err.Error(), "invalid argument") {
		return fmt.Errorf("natsauth: sync %s: %w", dir, err)
	}
	return nil
}
