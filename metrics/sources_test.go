package metrics

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/media/dtmf"
	"github.com/hotline-dev/hotline/sip"
)

// TestRealSources wires a real SIP server and a real pacer, as the server
// does, and checks that the scrape follows the traffic.
func TestRealSources(t *testing.T) {
	loop := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	srv, err := sip.NewServer(sip.Config{
		Listen: []string{"udp:127.0.0.1:0"},
		Ports:  sip.PortAllocatorFunc(func() (*net.UDPConn, error) { return net.ListenUDP("udp4", loop) }),
		Handler: sip.HandlerFunc(func(ctx context.Context, c *sip.Call) {
			<-ctx.Done()
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-srv.Ready()

	pacer := media.NewPacer(1)
	t.Cleanup(pacer.Close)

	m := New(Sources{Version: "test", ActiveCalls: srv.ActiveCalls, SIP: srv.Counters, Media: pacer.Totals,
		Lateness: pacer.Lateness})
	h := m.Handler()
	fams, _ := scrape(t, h)
	if value(fams, "hotline_sip_requests_total", "method", "OPTIONS") != 0 || value(fams, "hotline_rtp_sessions") != 0 {
		t.Fatal("not zero at first")
	}

	// SIP: an OPTIONS ping, answered 200.
	peer, err := net.ListenUDP("udp4", loop)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	to, _ := net.ResolveUDPAddr("udp4", srv.Addr("udp"))
	me := peer.LocalAddr().String()
	ping := strings.ReplaceAll("OPTIONS sip:ivr@"+to.String()+" SIP/2.0\n"+
		"Via: SIP/2.0/UDP "+me+";branch=z9hG4bKmetrics1\nFrom: <sip:probe@"+me+">;tag=p1\nTo: <sip:ivr@"+to.String()+">\n"+
		"Call-ID: metrics-ping\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n", "\n", "\r\n")
	if _, err := peer.WriteToUDP([]byte(ping), to); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, _, err := peer.ReadFromUDP(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
		t.Fatalf("OPTIONS: %v %q", err, buf[:n])
	}

	// Media: a session that receives three packets and a key, and sends.
	rtpPeer, err := net.ListenUDP("udp4", loop)
	if err != nil {
		t.Fatal(err)
	}
	defer rtpPeer.Close()
	conn, err := net.ListenUDP("udp4", loop)
	if err != nil {
		t.Fatal(err)
	}
	s, err := media.NewSession(media.Config{Conn: conn, Remote: rtpPeer.LocalAddr().(*net.UDPAddr), Codec: media.PCMU,
		DTMFPayload: 101, Pacer: pacer})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	defer s.Close()
	for i := range 3 {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(160 * i), SSRC: 5},
			Payload: make([]byte, 160)}).Marshal()
		rtpPeer.WriteToUDP(b, conn.LocalAddr().(*net.UDPAddr))
	}
	s.InjectDigit('7', dtmf.SourceINFO)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && (s.Stats().PacketsIn < 3 || s.Stats().PacketsOut < 3) {
		time.Sleep(5 * time.Millisecond)
	}

	fams, _ = scrape(t, h)
	for _, c := range []struct {
		name   string
		labels []string
		min    float64
	}{
		{"hotline_sip_requests_total", []string{"method", "OPTIONS"}, 1},
		{"hotline_sip_responses_total", []string{"code", "200"}, 1},
		{"hotline_rtp_sessions", nil, 1},
		{"hotline_rtp_sessions_started_total", nil, 1},
		{"hotline_rtp_packets_total", []string{"direction", "in"}, 3},
		{"hotline_rtp_bytes_total", []string{"direction", "in"}, 3 * 172},
		{"hotline_rtp_packets_total", []string{"direction", "out"}, 3},
		{"hotline_rtp_send_lateness_seconds", nil, 3},
		{"hotline_dtmf_digits_total", []string{"source", "info"}, 1},
	} {
		if got := value(fams, c.name, c.labels...); got < c.min {
			t.Errorf("%s%v = %v, want at least %v", c.name, c.labels, got, c.min)
		}
	}
	out := value(fams, "hotline_rtp_packets_total", "direction", "out")
	s.Close()
	fams, _ = scrape(t, h)
	if value(fams, "hotline_rtp_sessions") != 0 || value(fams, "hotline_rtp_packets_total", "direction", "out") < out ||
		value(fams, "hotline_rtp_packets_total", "direction", "in") != 3 {
		t.Error("closing the session lost its counts")
	}
}
