package redistest

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of a Redis that a test can cut and restore, to play a network blip
// without losing the server's data.
type Proxy struct {
	Addr   string
	target string
	ln     net.Listener

	mu      sync.Mutex
	cut     bool
	conns   map[net.Conn]struct{}
	trip    []byte // CutOn's pattern, until it is seen
	refused int
}

// NewProxy listens on a free loopback port and forwards to target until the test ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	go p.accept()
	tb.Cleanup(func() { ln.Close(); p.Cut() })
	return p
}

// Cut closes every connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// CutOn cuts (as Cut) when a client sends a command containing pattern, before Redis sees it: a
// blip at the exact moment of one write. Connections stay refused until Restore.
func (p *Proxy) CutOn(pattern string) {
	p.mu.Lock()
	p.trip = []byte(pattern)
	p.mu.Unlock()
}

// Refused counts the connections refused while cut: a client retrying through the outage.
func (p *Proxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// Target is the address the proxy forwards to: a test's way to Redis around the cut.
func (p *Proxy) Target() string { return p.target }

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.refused++
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.forward(up, c)
		go pipe(c, up)
	}
}

// forward copies a client's commands to Redis, cutting everything when one carries CutOn's pattern.
func (p *Proxy) forward(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			tripped := p.trip != nil && bytes.Contains(buf[:n], p.trip)
			if tripped {
				p.trip = nil
			}
			p.mu.Unlock()
			if tripped {
				p.Cut()
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}
