package ivr

import _ "embed"

// DefaultCenter is the menu file of hotline's default center: a national postal operator's 24/7
// support line (Russian, 9 for English). Load it with LoadDefault, or copy it as a starting point.
//
//go:embed default-center.yaml
var DefaultCenter []byte
