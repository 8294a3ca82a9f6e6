// Package asteriskconfig holds the configuration files a real Asterisk loads for hotline; the
// simulator interprets the same dialplan.
package asteriskconfig

import _ "embed"

// Extensions is extensions.conf: the production dialplan, as an operator installs it.
//
//go:embed extensions.conf
var Extensions []byte

// TestCallers is test/extensions-test.conf: the test callers' contexts. The Asterisk that
// scripts/asterisk.sh starts for the tests includes it after Extensions; production never does.
//
//go:embed test/extensions-test.conf
var TestCallers []byte

// Dialplan is what the simulator loads by default, as the test Asterisk does: the production
// dialplan with the test callers included after it.
func Dialplan() []byte {
	out := make([]byte, 0, len(Extensions)+len(TestCallers)+1)
	out = append(append(append(out, Extensions...), '\n'), TestCallers...)
	return out
}
