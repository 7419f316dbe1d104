//go:build linux

package media

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// batchBuffer is the size of each receive buffer: larger than any datagram
// handle accepts (12-byte header, CSRCs and an extension, maxAudioPayload);
// a longer one is cut and flagged MSG_TRUNC, and dropped as malformed.
const batchBuffer = 1280

// batchLen is how many datagrams one recvmmsg(2) takes. Two is enough to
// tell a drained socket (fewer came back) from one with more waiting.
const batchLen = 2

// mmsghdr is struct mmsghdr of <sys/socket.h> on Linux (Go pads it to the
// alignment of Msghdr, as C does: 64 bytes on 64-bit, 32 on 32-bit).
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
}

// receiver reads a session's datagrams with recvmmsg(2) inside one
// RawConn.Read: after a read that drained the socket it waits for the next
// datagram without first trying another read that would fail with EAGAIN,
// as net.UDPConn's reads do. At 50 packets a second per call that is one
// system call per packet instead of two. (The runtime's poller is
// edge-triggered: every datagram that arrives after the drain wakes the
// wait, so none is left behind.)
type receiver struct {
	rc    syscall.RawConn
	hdrs  [batchLen]mmsghdr
	iovs  [batchLen]syscall.Iovec
	names [batchLen]syscall.RawSockaddrInet6 // big enough for AF_INET too
	bufs  [batchLen][]byte
	fn    func(fd uintptr) bool // allocated once
	s     *Session
	err   error
}

func newReceiver(s *Session, c *net.UDPConn) (*receiver, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &receiver{rc: rc, s: s}
	mem := make([]byte, batchLen*batchBuffer)
	for i := range r.hdrs {
		r.bufs[i] = mem[i*batchBuffer : (i+1)*batchBuffer]
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(batchBuffer)
		h := &r.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Iov = &r.iovs[i]
		h.Iovlen = 1
	}
	r.fn = r.drain
	return r, nil
}

// run receives until the socket is closed or its read deadline passes,
// handing each datagram to the session; it returns that error.
func (r *receiver) run() error {
	r.err = nil
	if err := r.rc.Read(r.fn); err != nil {
		return err
	}
	return r.err
}

// drain is RawConn.Read's function: it reads and hands over what is
// waiting, and returns false (wait for more) once the socket is drained.
func (r *receiver) drain(fd uintptr) bool {
	for {
		for i := range r.hdrs {
			r.hdrs[i].hdr.Namelen = syscall.SizeofSockaddrInet6
			r.hdrs[i].hdr.Flags = 0
		}
		n, _, errno := syscall.Syscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), batchLen,
			syscall.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
		case syscall.EAGAIN:
			return false
		case syscall.EINTR:
			continue
		default:
			// Transient (ICMP errors) or fatal: readLoop decides.
			r.err = errno
			return true
		}
		at := r.s.since()
		for i := range int(n) {
			h := &r.hdrs[i]
			if h.hdr.Flags&syscall.MSG_TRUNC != 0 {
				r.s.dropTruncated(int(h.n))
				continue
			}
			r.s.handle(r.bufs[i][:h.n], sockaddrPort(&r.names[i], h.hdr.Namelen), at)
		}
		r.s.afterReceive()
		if int(n) < batchLen {
			return false // drained: the next datagram wakes the wait
		}
	}
}

// sockaddrPort converts a raw socket address to a netip.AddrPort.
func sockaddrPort(sa *syscall.RawSockaddrInet6, n uint32) netip.AddrPort {
	switch sa.Family {
	case syscall.AF_INET:
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), ntohs(sa4.Port))
	case syscall.AF_INET6:
		if n < syscall.SizeofSockaddrInet6 {
			return netip.AddrPort{}
		}
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), ntohs(sa.Port))
	}
	return netip.AddrPort{}
}

func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}
