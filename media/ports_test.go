package media

import (
	"errors"
	"net"
	"testing"
)

// freeRange finds n consecutive even ports nobody uses on 127.0.0.1.
func freeRange(t *testing.T, n int) (int, int) {
	t.Helper()
	for base := 41000; base < 60000; base += 2 * n {
		ok := true
		var held []*net.UDPConn
		for p := base; p < base+2*n; p += 2 {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return base, base + 2*(n-1)
		}
	}
	t.Fatal("no free port range")
	return 0, 0
}

func TestPorts(t *testing.T) {
	lo, hi := freeRange(t, 3)
	p, err := NewPorts(net.IPv4(127, 0, 0, 1), lo-1, hi+1) // odd bounds round inwards
	if err != nil {
		t.Fatal(err)
	}
	if p.Size() != 3 {
		t.Fatalf("size %d", p.Size())
	}
	var conns []*net.UDPConn
	seen := map[int]bool{}
	for range 3 {
		c, err := p.Listen()
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 || port < lo || port > hi || seen[port] {
			t.Fatalf("port %d", port)
		}
		seen[port] = true
		conns = append(conns, c)
	}
	if _, err := p.Listen(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("exhausted range: %v", err)
	}
	// A port freed by Close is handed out again.
	freed := conns[1].LocalAddr().(*net.UDPAddr).Port
	conns[1].Close()
	c, err := p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.LocalAddr().(*net.UDPAddr).Port; got != freed {
		t.Fatalf("got %d, want the freed %d", got, freed)
	}
	conns[1] = c
	// A port taken by someone else is skipped.
	conns[0].Close()
	other, err := net.ListenUDP("udp", conns[0].LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := p.Listen(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("port held by another socket: %v", err)
	}
	for _, c := range conns[1:] {
		c.Close()
	}
	for _, r := range [][2]int{{0, 10}, {10, 5}, {11, 11}, {60000, 70000}} {
		if _, err := NewPorts(nil, r[0], r[1]); err == nil {
			t.Errorf("range %v accepted", r)
		}
	}
}
