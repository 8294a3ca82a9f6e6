// Package asteriskconfig holds the configuration files a real Asterisk loads for hotline; the
// simulator interprets the same dialplan.
package asteriskconfig

import _ "embed"

// Extensions is extensions.conf: the dialplan the simulator loads by default.
//
//go:embed extensions.conf
var Extensions []byte
