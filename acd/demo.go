package acd

import (
	"fmt"
	"os"

	"github.com/hotline-cc/hotline/internal/yamlfile"
)

// WeakPasswords reads the center file at path and returns an error, at its line, for every
// password hash that weak says is weak (the demo password's): `hotline run` refuses such a center.
func WeakPasswords(path string, weak func(hash string) bool) ([]error, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("acd: %w", err)
	}
	var f centerFile
	doc, err := yamlfile.Decode(path, data, &f)
	if err != nil {
		return nil, err
	}
	var errs []error
	const msg = "is the hash of the published demo password: give each account its own (hotline hash-password)"
	for i, g := range f.Groups {
		if g.PasswordHash != "" && weak(g.PasswordHash) {
			errs = append(errs, doc.Errorf(fmt.Sprintf("groups[%d].password_hash", i), msg))
		}
	}
	for i, a := range f.Agents {
		if a.PasswordHash != "" && weak(a.PasswordHash) {
			errs = append(errs, doc.Errorf(fmt.Sprintf("agents[%d].password_hash", i), msg))
		}
	}
	for i, sv := range f.Supervisors {
		if sv.PasswordHash != "" && weak(sv.PasswordHash) {
			errs = append(errs, doc.Errorf(fmt.Sprintf("supervisors[%d].password_hash", i), msg))
		}
	}
	return errs, nil
}
