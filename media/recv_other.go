//go:build !linux

package media

import "net"

// receiver reads a session's datagrams one at a time where recvmmsg(2) is
// not available.
type receiver struct {
	c   *net.UDPConn
	buf []byte
	s   *Session
}

func newReceiver(s *Session, c *net.UDPConn) (*receiver, error) {
	return &receiver{c: c, buf: make([]byte, readBuffer), s: s}, nil
}

// run receives until the socket is closed or its read deadline passes,
// handing each datagram to the session; it returns that error.
func (r *receiver) run() error {
	for {
		n, from, err := r.c.ReadFromUDPAddrPort(r.buf)
		if err != nil {
			return err
		}
		r.s.handle(r.buf[:n], from, r.s.since())
		r.s.afterReceive()
	}
}
