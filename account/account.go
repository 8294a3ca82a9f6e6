// Package account holds who may use hotline and how they prove it: accounts with roles (agent,
// supervisor, administrator), the login check and the sessions of both web pages.
//
// The login check is throttled per account and per client address (in Redis, so every web instance
// counts the same failures), costs one bcrypt comparison whether the id exists or not (an unknown id
// is compared against a dummy hash, so answer times do not reveal which ids exist), and runs at most
// a few bcrypt comparisons at once (a login flood must not take the CPU from the audio relay that
// shares the process).
//
// Sessions live in Redis under the center's hash tag: a controller restart or a second web instance
// keeps everyone logged in, with no sticky sessions. The cookie carries a random token; Redis holds
// only its SHA-256 (the session id), so a copy of Redis cannot be replayed as cookies. Sessions are
// bounded per account (the oldest is revoked), end after an idle time and after an absolute
// lifetime, and are revoked all at once when a supervisor logs an agent out. A revocation is
// published on Redis pub/sub so every instance closes that account's sockets at once; each open
// socket also re-checks its session periodically, which catches a revocation whose message was lost
// in a Redis reconnect and keeps an open page's session from idling out.
package account

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// Role is what an account may do.
type Role string

// Roles. Agents take calls; supervisors watch the center, step into calls through their own
// softphone, move calls and force agents' states; administrators may also change what every caller
// hears (the announcement switch).
const (
	RoleAgent         Role = "agent"
	RoleSupervisor    Role = "supervisor"
	RoleAdministrator Role = "administrator"
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	return r == RoleAgent || r == RoleSupervisor || r == RoleAdministrator
}

// Supervises reports whether the role may use the supervisor page.
func (r Role) Supervises() bool { return r == RoleSupervisor || r == RoleAdministrator }

// Account is one person who can log in.
type Account struct {
	ID           string
	Name         string
	Role         Role
	PasswordHash string // bcrypt
	// Disabled accounts cannot log in, and their sessions stop working.
	Disabled bool
}

// Directory is the center's accounts by id, fixed once built: the center file is its source, and a
// reload builds a new one (Service.Replace).
type Directory struct {
	byID  map[string]Account
	cost  int    // the bcrypt cost the dummy comparison uses
	dummy []byte // compared when the id is unknown: set when a Service takes the directory
}

// ErrDuplicate is a directory built with one id twice.
var ErrDuplicate = errors.New("account: duplicate id")

// NewDirectory indexes accounts. Ids must be unique across roles: an agent and a supervisor with
// one id would share a softphone.
func NewDirectory(accounts []Account) (*Directory, error) {
	d := &Directory{byID: make(map[string]Account, len(accounts)), cost: bcrypt.DefaultCost}
	costs := map[int]int{}
	for _, a := range accounts {
		if _, dup := d.byID[a.ID]; dup {
			return nil, fmt.Errorf("%w: %q", ErrDuplicate, a.ID)
		}
		if !a.Role.Valid() {
			return nil, fmt.Errorf("account %q: unknown role %q", a.ID, a.Role)
		}
		d.byID[a.ID] = a
		if c, err := bcrypt.Cost([]byte(a.PasswordHash)); err == nil {
			costs[c]++
		}
	}
	// The dummy hash takes the most common cost, so an unknown id costs what most real ones do.
	best := 0
	for c, n := range costs {
		if n > best || (n == best && c > d.cost) {
			d.cost, best = c, n
		}
	}
	return d, nil
}

// Lookup returns the account with that id.
func (d *Directory) Lookup(id string) (Account, bool) {
	a, ok := d.byID[id]
	return a, ok
}

// Len is the number of accounts.
func (d *Directory) Len() int { return len(d.byID) }
