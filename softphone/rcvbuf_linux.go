package softphone

import (
	"net"

	"golang.org/x/sys/unix"
)

// setReadBuffer asks for want bytes of receive buffer on c and returns what the kernel gave, in
// its own terms (it doubles a request for its bookkeeping). An ordinary request is capped at
// net.core.rmem_max, 208 KiB on a stock kernel; a process allowed to (CAP_NET_ADMIN, which root
// usually has) forces it past the cap.
func setReadBuffer(c *net.UDPConn, want int) (int, error) {
	sc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var got int
	var opErr error
	if err := sc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, want)
		if got, opErr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF); opErr != nil || got >= 2*want {
			return
		}
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, want) == nil {
			got, opErr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		}
	}); err != nil {
		return 0, err
	}
	return got, opErr
}
