package natsauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// Kind is what a user is for.
type Kind string

// Kinds of issued users.
const (
	KindKiosk    Kind = "kiosk"
	KindOperator Kind = "operator"
)

// User is one issued credential in the registry. A name may have several
// (a credential issued again); each has its own key.
type User struct {
	Name      string    `json:"name"`
	Kind      Kind      `json:"kind"`
	Office    string    `json:"office,omitempty"` // kiosks only
	PublicKey string    `json:"public_key"`
	IssuedAt  time.Time `json:"issued_at"`
	// Expires is when the user JWT stops being accepted (the server then
	// also closes the user's connection). Zero for credentials recorded
	// before expiry existed, which never expire.
	Expires   time.Time  `json:"expires,omitzero"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Valid reports whether the credential has not been revoked. An expired
// credential is still Valid: expiry is the renewal cycle, shown by
// Expired, not a decision of an operator.
func (u User) Valid() bool { return u.RevokedAt == nil }

// Expired reports whether the credential's JWT has expired at now.
func (u User) Expired(now time.Time) bool { return !u.Expires.IsZero() && !now.Before(u.Expires) }

// DefaultValidity is how long an issued kiosk or operator credential is
// valid unless ValidFor says otherwise: one year, the SOP's renewal
// cycle. The hub warns ahead of the expiry (sync/hub/expiry).
const DefaultValidity = 365 * 24 * time.Hour

// IssueOption changes how IssueKiosk and IssueOperator issue a credential.
type IssueOption func(*issueOpts)

type issueOpts struct {
	validity time.Duration
}

// ValidFor sets how long the credential is valid (it must be positive):
// the user JWT's expiry is the issue time plus d.
func ValidFor(d time.Duration) IssueOption {
	return func(o *issueOpts) { o.validity = d }
}

func issueOptions(opts []IssueOption) (issueOpts, error) {
	o := issueOpts{validity: DefaultValidity}
	for _, f := range opts {
		f(&o)
	}
	// A JWT expiry has one-second resolution: less would expire at once.
	if o.validity < time.Second {
		return o, fmt.Errorf("natsauth: validity %v: must be at least one second", o.validity)
	}
	return o, nil
}

// ErrUnknownUser is returned by Revoke for a name or key never issued here.
var ErrUnknownUser = errors.New("natsauth: no such user")

// ErrKindConflict is returned when a name is issued as a kiosk and as an
// operator: the NATS user name says who acted, so it must be one of them.
var ErrKindConflict = errors.New("natsauth: name already issued as another kind")

// reserved names the material uses itself.
var reserved = []string{HubUser, SysUser}

// checkName validates a user name: the kiosk id pattern (DESIGN 3), which
// is also a safe subject token, for operators too.
func checkName(what, name string) error {
	if err := kiosk.CheckID(what, name); err != nil {
		return fmt.Errorf("natsauth: %w", err)
	}
	if slices.Contains(reserved, name) {
		return fmt.Errorf("natsauth: %s %q is reserved for the hub itself", what, name)
	}
	return nil
}

// IssueKiosk issues kiosk id of office a new user (name = id) with the
// kiosk permissions and returns its .creds file. It works at once: the
// server checks a user JWT against the account JWT it already has. With
// replace, the kiosk's earlier credentials are revoked in the same step
// (and the account JWT changes, see Revoke); without, they stay valid.
// The credential expires after DefaultValidity unless ValidFor is given.
func (a *Auth) IssueKiosk(id, office string, replace bool, opts ...IssueOption) ([]byte, User, error) {
	if err := checkName("kiosk id", id); err != nil {
		return nil, User{}, err
	}
	if err := checkName("office", office); err != nil {
		return nil, User{}, err
	}
	o, err := issueOptions(opts)
	if err != nil {
		return nil, User{}, err
	}
	return a.issue(id, KindKiosk, office, KioskPermissions(id), replace, o)
}

// IssueOperator issues operator name a new user with the operator
// permissions and returns its .creds file (see IssueKiosk for replace and
// expiry).
func (a *Auth) IssueOperator(name string, replace bool, opts ...IssueOption) ([]byte, User, error) {
	if err := checkName("operator name", name); err != nil {
		return nil, User{}, err
	}
	o, err := issueOptions(opts)
	if err != nil {
		return nil, User{}, err
	}
	return a.issue(name, KindOperator, "", OperatorPermissions(), replace, o)
}

func (a *Auth) issue(name string, kind Kind, office string, perms jwt.Permissions, replace bool, o issueOpts) ([]byte, User, error) {
	unlock, err := a.lock()
	if err != nil {
		return nil, User{}, err
	}
	defer unlock()
	users, err := a.readUsers()
	if err != nil {
		return nil, User{}, err
	}
	for _, u := range users {
		if u.Name == name && u.Kind != kind {
			return nil, User{}, fmt.Errorf("%w: %q is a %s", ErrKindConflict, name, u.Kind)
		}
	}
	tags := []string{string(kind)}
	if office != "" {
		tags = append(tags, "office:"+office)
	}
	creds, uc, err := signUser(a.account, name, &perms, tags, o.validity)
	if err != nil {
		return nil, User{}, err
	}
	u := User{Name: name, Kind: kind, Office: office, PublicKey: uc.Subject, IssuedAt: time.Unix(uc.IssuedAt, 0).UTC()}
	if uc.Expires != 0 {
		u.Expires = time.Unix(uc.Expires, 0).UTC()
	}
	if replace {
		var old []string
		for _, o := range users {
			if o.Name == name && o.Valid() {
				old = append(old, o.PublicKey)
			}
		}
		if len(old) > 0 {
			if _, err := a.revokeLocked(users, old); err != nil {
				return nil, User{}, err
			}
		}
	}
	users = append(users, u)
	if err := a.writeUsers(users); err != nil {
		return nil, User{}, err
	}
	return creds, u, nil
}

// issueUser signs a user JWT that never expires for a fresh user key with
// signer (an account key) and returns the .creds file. perms nil means no
// restrictions. The hub's own users are issued so: an expiry would stop
// the hub itself a year later, with nobody to renew it.
func issueUser(signer nkeys.KeyPair, name string, perms *jwt.Permissions, tags []string) ([]byte, *jwt.UserClaims, error) {
	return signUser(signer, name, perms, tags, 0)
}

// signUser is issueUser with an expiry validity after now (0: none).
func signUser(signer nkeys.KeyPair, name string, perms *jwt.Permissions, tags []string, validity time.Duration) ([]byte, *jwt.UserClaims, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, nil, fmt.Errorf("natsauth: user key: %w", err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	uc := jwt.NewUserClaims(pub)
	uc.Name = name
	if perms != nil {
		uc.Permissions = *perms
	}
	uc.Tags.Add(tags...)
	if validity > 0 {
		// jwt stamps the issue time with the wall clock too, so the
		// credential is valid for validity from its recorded issue time
		// (up to the second).
		uc.Expires = time.Now().Add(validity).Unix()
	}
	vr := jwt.CreateValidationResults()
	uc.Validate(vr)
	if vr.IsBlocking(true) {
		return nil, nil, fmt.Errorf("natsauth: user %s: %v", name, vr.Errors())
	}
	token, err := uc.Encode(signer)
	if err != nil {
		return nil, nil, fmt.Errorf("natsauth: user %s: %w", name, err)
	}
	creds, err := jwt.FormatUserConfig(token, seed)
	if err != nil {
		return nil, nil, fmt.Errorf("natsauth: user %s: %w", name, err)
	}
	// Decode back for the issue time the signature covers.
	uc, err = jwt.DecodeUserClaims(token)
	if err != nil {
		return nil, nil, fmt.Errorf("natsauth: user %s: %w", name, err)
	}
	return creds, uc, nil
}

// Revoke revokes every valid credential of a user name (a kiosk id or an
// operator name), or the one credential with that public key, by adding
// their public keys to the account JWT's revocations. It returns the
// credentials it revoked. The new account JWT is on disk when Revoke
// returns; a running server learns it from the hub (Push, WaitApplied).
// Revoking a name whose credentials are all revoked already is not an
// error (nothing changes, the result is empty).
func (a *Auth) Revoke(nameOrKey string) ([]User, error) {
	unlock, err := a.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	users, err := a.readUsers()
	if err != nil {
		return nil, err
	}
	var keys []string
	known := false
	for _, u := range users {
		if u.Name == nameOrKey || u.PublicKey == nameOrKey {
			known = true
			if u.Valid() {
				keys = append(keys, u.PublicKey)
			}
		}
	}
	if !known {
		return nil, fmt.Errorf("%w: %q was never issued here (see users.json in %s)", ErrUnknownUser, nameOrKey, a.dir)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	revoked, err := a.revokeLocked(users, keys)
	if err != nil {
		return nil, err
	}
	if err := a.writeUsers(users); err != nil {
		return nil, err
	}
	return revoked, nil
}

// revokeLocked writes the account JWT with keys revoked and marks them in
// users (which the caller writes). The lock is held.
func (a *Auth) revokeLocked(users []User, keys []string) ([]User, error) {
	token, err := a.AccountJWT()
	if err != nil {
		return nil, err
	}
	ac, err := a.decodeAccount(token)
	if err != nil {
		return nil, a.corrupt(accountJWTFile, err)
	}
	// jwt stamps the JWT's issue time with the wall clock, and the server
	// compares a revocation with the user JWT's issue time: use the same
	// clock.
	now := time.Now()
	for _, k := range keys {
		ac.RevokeAt(k, now)
	}
	next, err := ac.Encode(a.operator)
	if err != nil {
		return nil, fmt.Errorf("natsauth: account jwt: %w", err)
	}
	if err := WriteFile(a.path(accountJWTFile), []byte(next+"\n")); err != nil {
		return nil, err
	}
	at := now.UTC().Truncate(time.Second)
	var revoked []User
	for i := range users {
		if slices.Contains(keys, users[i].PublicKey) && users[i].Valid() {
			users[i].RevokedAt = &at
			revoked = append(revoked, users[i])
		}
	}
	return revoked, nil
}

// Users returns the registry of issued users, oldest first.
func (a *Auth) Users() ([]User, error) { return a.readUsers() }

func (a *Auth) readUsers() ([]User, error) {
	b, err := os.ReadFile(a.path(usersFile))
	if err != nil {
		return nil, a.corrupt(usersFile, err)
	}
	var users []User
	if err := json.Unmarshal(b, &users); err != nil {
		return nil, a.corrupt(usersFile, err)
	}
	return users, nil
}

func (a *Auth) writeUsers(users []User) error {
	b, err := json.MarshalIndent(users, "", "  ")
	if err != nil {
		return fmt.Errorf("natsauth: %w", err)
	}
	return WriteFile(a.path(usersFile), append(b, '\n'))
}
