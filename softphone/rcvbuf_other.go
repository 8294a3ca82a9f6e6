//go:build !linux

package softphone

import "net"

// setReadBuffer asks for want bytes of receive buffer; what the kernel gave is not known here, so
// it says it got them (as Linux counts: doubled).
func setReadBuffer(c *net.UDPConn, want int) (int, error) {
	return 2 * want, c.SetReadBuffer(want)
}
