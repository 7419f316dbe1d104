//go:build !unix

package media

import (
	"net"
	"net/netip"
)

// sender falls back to the ordinary write where raw non-blocking sends are
// not available.
type sender struct{ c *net.UDPConn }

func newSender(c *net.UDPConn) (*sender, error) { return &sender{c}, nil }

func (s *sender) send(b []byte, dst netip.AddrPort) error {
	_, err := s.c.WriteToUDPAddrPort(b, dst)
	return err
}
