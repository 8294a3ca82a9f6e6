package softphone

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Every agent's audio leaves through the one ICE socket, from each call's own leg goroutine. Go
// lets one write on a socket at a time (its per-descriptor write lock), so the legs queued behind
// each other there: when Asterisk's media clock delivered its packets for all calls at once, the
// waiters parked and were woken one by one, and in the seed center 6.5% of the packets towards
// the agents spent over a millisecond in that queue (p99 9 ms) while the same path through
// per-call sockets took 40 µs. The kernel needs no such lock for a UDP send, so the gateway sends
// on its own duplicate of the socket's descriptor with sendto(2) directly. A send the socket has
// no room for (EAGAIN) goes through Go's path, which waits for room, so nothing is dropped that
// Go would have sent.

// rawSender sends datagrams on a duplicate of a UDP socket's descriptor.
type rawSender struct {
	mu     sync.RWMutex // held for reading across a send, so Close never closes a descriptor in use
	fd     int          // -1 once closed
	family int          // AF_INET or AF_INET6
}

func newRawSender(c *net.UDPConn) (*rawSender, error) {
	sc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	s := &rawSender{fd: -1}
	var opErr error
	if err := sc.Control(func(fd uintptr) {
		var sa unix.Sockaddr
		if sa, opErr = unix.Getsockname(int(fd)); opErr != nil {
			return
		}
		switch sa.(type) {
		case *unix.SockaddrInet4:
			s.family = unix.AF_INET
		case *unix.SockaddrInet6:
			s.family = unix.AF_INET6
		default:
			opErr = fmt.Errorf("socket address %T", sa)
			return
		}
		s.fd, opErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if opErr != nil {
		return nil, fmt.Errorf("softphone: ICE socket's descriptor: %w", opErr)
	}
	return s, nil
}

// errNoRoom is a send the socket had no room for; the caller sends it through Go instead.
var errNoRoom = errors.New("socket send buffer full")

// sendTo sends b to addr in one sendto(2).
func (s *rawSender) sendTo(b []byte, addr netip.AddrPort) error {
	if len(b) == 0 {
		return errNoRoom // let Go's path handle the odd empty datagram
	}
	var (
		sa4 unix.RawSockaddrInet4
		sa6 unix.RawSockaddrInet6
		sa  unsafe.Pointer
		n   uintptr
	)
	ip, port := addr.Addr(), addr.Port()
	switch {
	case s.family == unix.AF_INET6:
		sa6.Family = unix.AF_INET6
		sa6.Addr = ip.As16()
		putPort(&sa6.Port, port)
		sa, n = unsafe.Pointer(&sa6), unix.SizeofSockaddrInet6
	case ip.Unmap().Is4():
		sa4.Family = unix.AF_INET
		sa4.Addr = ip.Unmap().As4()
		putPort(&sa4.Port, port)
		sa, n = unsafe.Pointer(&sa4), unix.SizeofSockaddrInet4
	default:
		return &net.AddrError{Err: "IPv6 address on an IPv4 socket", Addr: ip.String()}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.fd < 0 {
		return net.ErrClosed
	}
	for {
		_, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, uintptr(sa), n)
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return errNoRoom
		}
		return &net.OpError{Op: "sendto", Net: "udp", Addr: net.UDPAddrFromAddrPort(addr), Err: errno}
	}
}

// putPort stores port in network byte order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

// Close closes the duplicate descriptor once no send is using it.
func (s *rawSender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fd < 0 {
		return nil
	}
	err := unix.Close(s.fd)
	s.fd = -1
	return err
}
