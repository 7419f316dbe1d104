package media

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
)

// ErrNoPorts is returned (wrapped) when every port of the range is in use.
var ErrNoPorts = errors.New("media: no free RTP port")

// Ports hands out UDP sockets for RTP from a port range: even ports only (RTP
// convention; the odd port above stays free for RTCP), round robin so a port
// just released is the last to be handed out again (a late packet of the old
// call then meets no new call), skipping ports the system reports in use. A
// port is free again as soon as its socket is closed. Safe for concurrent use.
type Ports struct {
	ip       net.IP
	min, max int // even bounds
	mu       sync.Mutex
	next     int
}

// NewPorts returns the even ports of [min, max] on ip (nil or unspecified:
// all addresses).
func NewPorts(ip net.IP, min, max int) (*Ports, error) {
	if min < 1 || max > 65535 || min > max {
		return nil, fmt.Errorf("media: bad RTP port range %d-%d", min, max)
	}
	lo, hi := min+min%2, max-max%2
	if lo > hi {
		return nil, fmt.Errorf("media: RTP port range %d-%d has no even port", min, max)
	}
	return &Ports{ip: ip, min: lo, max: hi, next: lo}, nil
}

// Size is the number of ports in the range.
func (p *Ports) Size() int { return (p.max-p.min)/2 + 1 }

// Listen opens a UDP socket on the next free even port.
func (p *Ports) Listen() (*net.UDPConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range p.Size() {
		port := p.next
		if p.next += 2; p.next > p.max {
			p.next = p.min
		}
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: p.ip, Port: port})
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) && !errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("media: RTP port %d: %w", port, err)
		}
	}
	return nil, fmt.Errorf("%w in %d-%d", ErrNoPorts, p.min, p.max)
}
