//go:build unix

package media

import (
	"net"
	"net/netip"
	"syscall"
)

// sender writes datagrams without ever waiting. net.UDPConn.WriteTo parks
// the goroutine when the socket buffer is full; on a pacer shard that would
// stall every call of the shard behind one congested socket. Here a full
// buffer (EAGAIN) just loses that packet, which is what real time wants.
type sender struct {
	rc  syscall.RawConn
	v6  bool // AF_INET6 socket (dual stack): IPv4 peers need mapped addresses
	dst netip.AddrPort
	sa  syscall.Sockaddr
	sa4 syscall.SockaddrInet4
	sa6 syscall.SockaddrInet6
	buf []byte
	err error
	fn  func(fd uintptr) bool // allocated once: rc.Write takes a closure
}

func newSender(c *net.UDPConn) (*sender, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	s := &sender{rc: rc}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		var sa syscall.Sockaddr
		if sa, serr = syscall.Getsockname(int(fd)); serr == nil {
			_, s.v6 = sa.(*syscall.SockaddrInet6)
		}
	}); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, serr
	}
	s.fn = func(fd uintptr) bool {
		s.err = syscall.Sendto(int(fd), s.buf, 0, s.sa)
		return true // never wait for the socket to drain
	}
	return s, nil
}

// send writes b to dst. Only one goroutine (the session's shard) calls it.
func (s *sender) send(b []byte, dst netip.AddrPort) error {
	if dst != s.dst || s.sa == nil {
		a := dst.Addr()
		switch {
		case s.v6:
			s.sa6 = syscall.SockaddrInet6{Port: int(dst.Port()), Addr: a.As16()}
			s.sa = &s.sa6
		case a.Is4():
			s.sa4 = syscall.SockaddrInet4{Port: int(dst.Port()), Addr: a.As4()}
			s.sa = &s.sa4
		default:
			return syscall.EAFNOSUPPORT
		}
		s.dst = dst
	}
	s.buf = b
	if err := s.rc.Write(s.fn); err != nil {
		return err
	}
	return s.err
}
