package softphone

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestICEReadBuffer: the gateway gets the receive buffer it asks for, past net.core.rmem_max
// when the process may force it (CAP_NET_ADMIN; elsewhere the gateway logs how to raise the cap).
func TestICEReadBuffer(t *testing.T) {
	c := udpSocket(t)
	got, err := setReadBuffer(c, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	if got < 128<<10 {
		t.Errorf("asked for 64 KiB, got %d bytes, want 128 KiB (the kernel doubles a request)", got)
	}

	const past = 64 << 20 // more than any net.core.rmem_max a test machine has
	probe := udpSocket(t)
	sc, err := probe.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var forceErr error
	_ = sc.Control(func(fd uintptr) {
		forceErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, past)
	})
	if forceErr != nil {
		t.Skipf("this process may not force a receive buffer (%v)", forceErr)
	}
	if got, err = setReadBuffer(c, past); err != nil || got < 2*past {
		t.Errorf("allowed to force, asked for 64 MiB, got %d bytes (err %v)", got, err)
	}
}
