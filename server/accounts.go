package server

import (
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/config"
)

// directory lists the center file's accounts: its agents and its supervisors and administrators.
func directory(model *acd.Model) (*account.Directory, error) {
	list := make([]account.Account, 0, len(model.Agents)+len(model.Supervisors))
	for _, a := range model.Agents {
		list = append(list, account.Account{ID: a.ID, Name: a.Name, Role: account.RoleAgent, PasswordHash: a.PasswordHash, Disabled: a.Disabled})
	}
	for _, s := range model.Supervisors {
		role := account.RoleSupervisor
		if s.Role == acd.RoleAdministrator {
			role = account.RoleAdministrator
		}
		list = append(list, account.Account{ID: s.ID, Name: s.Name, Role: role, PasswordHash: s.PasswordHash, Disabled: s.Disabled})
	}
	return account.NewDirectory(list)
}

// newAccounts builds the login and session service of both pages, its keys under the center's.
func newAccounts(rdb redis.UniversalClient, prefix string, model *acd.Model, cfg config.Config, rec audit.Recorder, log *slog.Logger) (*account.Service, error) {
	dir, err := directory(model)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	a := cfg.Accounts
	ac := account.Config{
		Limits: account.Limits{
			MaxFailures: a.MaxFailures, MaxFailuresTotal: a.MaxFailuresTotal, Lockout: a.Lockout.D(), MaxLockout: a.MaxLockout.D(), FailureWindow: a.FailureWindow.D(),
			AddressBurst: a.AddressFailures, AddressRefill: a.AddressRefill.D(), Concurrency: a.LoginConcurrency,
		},
		Sessions: account.SessionLimits{PerAccount: a.SessionsPerAccount, Idle: a.SessionIdle.D(), Lifetime: a.SessionLifetime.D()},
		Recheck:  a.SessionRecheck.D(),
	}
	// An operator's center file outside a demo never logs in with the published password. (The
	// built-in center runs only as a demo: run refuses it otherwise.)
	if !cfg.InsecureDemo && cfg.ACD.CenterFile != "" {
		ac.RefusedPasswords = []string{DemoPassword}
	}
	for _, p := range cfg.Web.TrustedProxies {
		pfx, err := config.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("web.trusted_proxies: %w", err)
		}
		ac.TrustedProxies = append(ac.TrustedProxies, pfx)
	}
	return account.New(rdb, prefix, dir, ac, rec, log)
}
