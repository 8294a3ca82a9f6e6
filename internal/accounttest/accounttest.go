// Package accounttest builds account services for tests: accounts from clear passwords (hashed at
// bcrypt's lowest cost), over a real Redis.
package accounttest

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/audit"
)

// User is a test account with its password in clear.
type User struct {
	ID, Name, Password string
	Role               account.Role
	Disabled           bool
}

// Directory hashes the users' passwords and indexes them.
func Directory(tb testing.TB, users ...User) *account.Directory {
	tb.Helper()
	var list []account.Account
	for _, u := range users {
		h, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
		if err != nil {
			tb.Fatal(err)
		}
		role := u.Role
		if role == "" {
			role = account.RoleAgent
		}
		list = append(list, account.Account{ID: u.ID, Name: u.Name, Role: role, PasswordHash: string(h), Disabled: u.Disabled})
	}
	d, err := account.NewDirectory(list)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// Prefix is where test services keep their keys.
const Prefix = "{hotline:test}:"

// New returns a Service over rdb for the users; rec may be nil.
func New(tb testing.TB, rdb redis.UniversalClient, cfg account.Config, rec audit.Recorder, users ...User) *account.Service {
	tb.Helper()
	s, err := account.New(rdb, Prefix, Directory(tb, users...), cfg, rec, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
