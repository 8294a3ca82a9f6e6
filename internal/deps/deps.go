// Package deps pins the project's direct dependencies while packages that use them are being written.
// Remove once every import below is used by a real package.
package deps

import (
	_ "github.com/CyCoreSystems/ari/v5/client/native"
	_ "github.com/alicebob/miniredis/v2"
	_ "github.com/chromedp/chromedp"
	_ "github.com/coder/websocket"
	_ "github.com/goccy/go-yaml"
	_ "github.com/pion/webrtc/v4"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/redis/go-redis/v9"
	_ "golang.org/x/crypto/bcrypt"
)
