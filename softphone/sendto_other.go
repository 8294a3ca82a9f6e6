//go:build !linux

package softphone

import (
	"errors"
	"net"
	"net/netip"
)

// rawSender sends through Go's own path off Linux (sendto_linux.go says why it exists there).
type rawSender struct{}

func newRawSender(*net.UDPConn) (*rawSender, error) { return &rawSender{}, nil }

var errNoRoom = errors.New("socket send buffer full")

func (*rawSender) sendTo([]byte, netip.AddrPort) error { return errNoRoom }

func (*rawSender) Close() error { return nil }
