package sip

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/sdp/v3"
)

// offerSDP builds a test offer: mlines are full "m=" sections.
func testOffer(c string, session string, mlines ...string) []byte {
	var b strings.Builder
	b.WriteString("v=0\r\no=caller 1 1 IN IP4 192.0.2.10\r\ns=-\r\n")
	if c != "" {
		b.WriteString("c=IN IP4 " + c + "\r\n")
	}
	b.WriteString("t=0 0\r\n")
	b.WriteString(session)
	for _, m := range mlines {
		b.WriteString(strings.ReplaceAll(strings.TrimSpace(m), "\n", "\r\n"))
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}

func sdpCode(err error) (int, int) {
	var se *offerError
	if errors.As(err, &se) {
		return se.Code, se.Warning
	}
	return 0, 0
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name  string
		offer []byte
		want  Media
		code  int // expected offerError code, 0 = success
		warn  int
	}{
		{
			name:  "PCMU first, telephone-event 101",
			offer: testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16"),
			want:  Media{Codec: PCMU, DTMFPayload: 101, PTime: 20 * time.Millisecond, Direction: SendRecv},
		},
		{
			name:  "offer order: PCMA before PCMU",
			offer: testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 8 0 101\na=rtpmap:8 PCMA/8000\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000"),
			want:  Media{Codec: PCMA, DTMFPayload: 101, PTime: 20 * time.Millisecond, Direction: SendRecv},
		},
		{
			name:  "PCMA only, offered telephone-event PT 96 kept, 16k event ignored",
			offer: testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 18 8 97 96\na=rtpmap:18 G729/8000\na=rtpmap:97 telephone-event/16000\na=rtpmap:96 telephone-event/8000\na=ptime:30"),
			want:  Media{Codec: PCMA, DTMFPayload: 96, PTime: 30 * time.Millisecond, Direction: SendRecv},
		},
		{
			name:  "dynamic PT for PCMU",
			offer: testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 112\na=rtpmap:112 pcmu/8000"),
			want:  Media{Codec: Codec{Name: "PCMU", PayloadType: 112, ClockRate: 8000}, PTime: 20 * time.Millisecond, Direction: SendRecv},
		},
		{
			name:  "static PT 0 remapped to something else is not PCMU",
			offer: testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 0 8\na=rtpmap:0 opus/48000/2"),
			want:  Media{Codec: PCMA, PTime: 20 * time.Millisecond, Direction: SendRecv},
		},
		{
			name:  "sendonly offer is answered recvonly",
			offer: testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 0\na=sendonly"),
			want:  Media{Codec: PCMU, PTime: 20 * time.Millisecond, Direction: RecvOnly},
		},
		{
			name:  "recvonly offer is answered sendonly",
			offer: testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 0\na=recvonly"),
			want:  Media{Codec: PCMU, PTime: 20 * time.Millisecond, Direction: SendOnly},
		},
		{
			name:  "inactive stays inactive",
			offer: testOffer("192.0.2.10", "a=inactive\r\n", "m=audio 4000 RTP/AVP 0"),
			want:  Media{Codec: PCMU, PTime: 20 * time.Millisecond, Direction: Inactive},
		},
		{
			name:  "media-level direction overrides session level",
			offer: testOffer("192.0.2.10", "a=sendonly\r\n", "m=audio 4000 RTP/AVP 0\na=sendrecv"),
			want:  Media{Codec: PCMU, PTime: 20 * time.Millisecond, Direction: SendRecv},
		},
		{
			name:  "c=0.0.0.0 hold: no remote, recvonly",
			offer: testOffer("0.0.0.0", "", "m=audio 4000 RTP/AVP 0"),
			want:  Media{Codec: PCMU, PTime: 20 * time.Millisecond, Direction: RecvOnly},
		},
		{
			name:  "media-level c= overrides session c=",
			offer: testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 0\nc=IN IP4 198.51.100.1"),
			want:  Media{Codec: PCMU, PTime: 20 * time.Millisecond, Direction: SendRecv},
		},
		{
			name:  "odd ptime ignored",
			offer: testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 0\na=ptime:1000"),
			want:  Media{Codec: PCMU, PTime: 20 * time.Millisecond, Direction: SendRecv},
		},
		{
			name:  "maxptime below 20",
			offer: testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 0\na=maxptime:10"),
			want:  Media{Codec: PCMU, PTime: 10 * time.Millisecond, Direction: SendRecv},
		},
		{
			name:  "session-level ptime",
			offer: testOffer("192.0.2.10", "a=ptime:40\r\n", "m=audio 4000 RTP/AVP 8"),
			want:  Media{Codec: PCMA, PTime: 40 * time.Millisecond, Direction: SendRecv},
		},
		{
			name:  "video rejected, audio accepted",
			offer: testOffer("192.0.2.10", "", "m=video 5000 RTP/AVP 96\na=rtpmap:96 H264/90000", "m=audio 4000 RTP/AVP 8"),
			want:  Media{Codec: PCMA, PTime: 20 * time.Millisecond, Direction: SendRecv},
		},
		{
			name:  "no common codec",
			offer: testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 18 9\na=rtpmap:18 G729/8000\na=rtpmap:9 G722/8000"),
			code:  488, warn: 305,
		},
		{
			name:  "no audio",
			offer: testOffer("192.0.2.10", "", "m=video 5000 RTP/AVP 96"),
			code:  488, warn: 304,
		},
		{
			name:  "SRTP only",
			offer: testOffer("192.0.2.10", "", "m=audio 4000 RTP/SAVP 0"),
			code:  488, warn: 302,
		},
		{
			name:  "FQDN address",
			offer: []byte("v=0\r\no=- 1 1 IN IP4 host.example\r\ns=-\r\nc=IN IP4 host.example\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"),
			code:  488, warn: 301,
		},
		{
			name:  "no c= line",
			offer: testOffer("", "", "m=audio 4000 RTP/AVP 0"),
			code:  400,
		},
		{
			name:  "garbage",
			offer: []byte("hello world"),
			code:  400,
		},
		{
			name:  "diago's crasher c=00",
			offer: []byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=00\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"),
			code:  400,
		},
		{
			name:  "empty",
			offer: nil,
			code:  400,
		},
		{
			name:  "out-of-order lines are repaired (c= after t=, GB28181 y=)",
			offer: []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\nc=IN IP4 192.0.2.10\r\nm=audio 4000 RTP/AVP 8\r\ny=0100000001\r\n"),
			want:  Media{Codec: PCMA, PTime: 20 * time.Millisecond, Direction: SendRecv},
		},
		{
			name:  "disabled audio stream then usable one",
			offer: testOffer("192.0.2.10", "", "m=audio 0 RTP/AVP 0", "m=audio 4002 RTP/AVP 8"),
			want:  Media{Codec: PCMA, PTime: 20 * time.Millisecond, Direction: SendRecv},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := negotiate(tt.offer, nil)
			if tt.code != 0 {
				code, warn := sdpCode(err)
				if code != tt.code || (tt.warn != 0 && warn != tt.warn) {
					t.Fatalf("err = %v (code %d warn %d), want code %d warn %d", err, code, warn, tt.code, tt.warn)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := plan.media
			got.Remote = nil
			if !got.equal(tt.want) {
				t.Fatalf("media = %s\nwant    %s", got, tt.want)
			}
			ans := (&origin{id: 7, version: 7}).answerSDP(plan, local{host: "203.0.113.5", port: 10000})
			checkAnswer(t, tt.offer, ans, plan)
		})
	}
}

// checkAnswer verifies an answer against RFC 3264 section 6: it parses, has
// as many m= lines as the offer, in order, one accepted audio stream with
// our address and one codec.
func checkAnswer(t testing.TB, offer, answer []byte, plan *answerPlan) {
	t.Helper()
	var a sdp.SessionDescription
	if err := a.Unmarshal(answer); err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, answer)
	}
	o, err := parseSDP(offer)
	if err != nil {
		t.Fatalf("offer does not parse any more: %v", err)
	}
	if len(a.MediaDescriptions) != len(o.MediaDescriptions) {
		t.Fatalf("answer has %d m= lines, offer %d\n%s", len(a.MediaDescriptions), len(o.MediaDescriptions), answer)
	}
	accepted := 0
	for i, md := range a.MediaDescriptions {
		if md.MediaName.Port.Value == 0 {
			continue
		}
		accepted++
		if i != plan.audioIx || md.MediaName.Media != "audio" {
			t.Fatalf("stream %d accepted, want only %d", i, plan.audioIx)
		}
		if got := md.MediaName.Formats[0]; got != strconv.Itoa(int(plan.media.Codec.PayloadType)) {
			t.Fatalf("answer codec PT %s, want %d", got, plan.media.Codec.PayloadType)
		}
	}
	if accepted != 1 {
		t.Fatalf("answer accepts %d streams\n%s", accepted, answer)
	}
	if a.ConnectionInformation == nil || a.ConnectionInformation.Address == nil {
		t.Fatalf("answer without c=\n%s", answer)
	}
	// What we answered is what we will do: reading it back as the far end
	// reads it gives the reverse direction.
	back, err := parseAnswer(answer, []Codec{PCMU, PCMA})
	if err != nil {
		t.Fatalf("answer does not read back: %v\n%s", err, answer)
	}
	if back.Codec != plan.media.Codec || back.DTMFPayload != plan.media.DTMFPayload || back.PTime != plan.media.PTime {
		t.Fatalf("answer reads back as %s, negotiated %s", back, plan.media)
	}
	if reverse(back.Direction) != plan.media.Direction && !(plan.media.Remote == nil) {
		t.Fatalf("answer direction %s, negotiated %s", reverse(back.Direction), plan.media.Direction)
	}
}

func TestNegotiateRemote(t *testing.T) {
	plan, err := negotiate(testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 0\nc=IN IP4 198.51.100.1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &net.UDPAddr{IP: net.ParseIP("198.51.100.1").To4(), Port: 4000}
	if plan.media.Remote.String() != want.String() {
		t.Fatalf("remote %v, want %v", plan.media.Remote, want)
	}
	plan, err = negotiate(testOffer("0.0.0.0", "", "m=audio 4000 RTP/AVP 0"), nil)
	if err != nil || plan.media.Remote != nil || plan.media.CanSend() || !plan.media.Held() {
		t.Fatalf("c=0.0.0.0: %v %+v", err, plan)
	}
}

func TestNegotiateKeepsCodecOnReoffer(t *testing.T) {
	prev := Media{Codec: PCMA}
	plan, err := negotiate(testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 0 8"), &prev)
	if err != nil {
		t.Fatal(err)
	}
	if plan.media.Codec != PCMA {
		t.Fatalf("codec %v, want PCMA kept", plan.media.Codec)
	}
	plan, err = negotiate(testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 0"), &prev)
	if err != nil || plan.media.Codec != PCMU {
		t.Fatalf("codec %v (%v), want PCMU when PCMA is gone", plan.media.Codec, err)
	}
}

func TestOriginVersion(t *testing.T) {
	o := &origin{id: 42, version: 42}
	l := local{host: "192.0.2.1", port: 10000}
	plan, _ := negotiate(testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 0"), nil)
	a1 := o.answerSDP(plan, l)
	a2 := o.answerSDP(plan, l)
	if string(a1) != string(a2) || !strings.Contains(string(a1), "o=hotline 42 42 ") {
		t.Fatalf("unchanged answer must keep its version:\n%s\n%s", a1, a2)
	}
	hold, _ := negotiate(testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 0\na=sendonly"), nil)
	a3 := o.answerSDP(hold, l)
	if !strings.Contains(string(a3), "o=hotline 42 43 ") || !strings.Contains(string(a3), "a=recvonly") {
		t.Fatalf("changed answer must bump the version:\n%s", a3)
	}
}

func TestOfferAndAnswer(t *testing.T) {
	o := &origin{id: 1, version: 1}
	offer := o.offerSDP([]Codec{PCMU, PCMA}, 101, 20*time.Millisecond, local{host: "::1", port: 12000})
	if !strings.Contains(string(offer), "c=IN IP6 ::1") || !strings.Contains(string(offer), "m=audio 12000 RTP/AVP 0 8 101") {
		t.Fatalf("offer:\n%s", offer)
	}
	plan, err := negotiate(offer, nil)
	if err != nil {
		t.Fatal(err)
	}
	ans := (&origin{id: 2, version: 2}).answerSDP(plan, local{host: "192.0.2.9", port: 30000})
	m, err := parseAnswer(ans, []Codec{PCMU, PCMA})
	if err != nil {
		t.Fatal(err)
	}
	if m.Codec != PCMU || m.DTMFPayload != 101 || m.Remote.String() != "192.0.2.9:30000" || m.Direction != SendRecv {
		t.Fatalf("answer read as %s", m)
	}
	// An answer that picks a codec we did not offer is refused.
	bad := testOffer("192.0.2.10", "", "m=audio 4000 RTP/AVP 8")
	if _, err := parseAnswer(bad, []Codec{PCMU}); err == nil {
		t.Fatal("answer with a codec we did not offer accepted")
	}
	if _, err := parseAnswer(testOffer("192.0.2.10", "", "m=audio 0 RTP/AVP 0"), []Codec{PCMU}); err == nil {
		t.Fatal("answer rejecting audio accepted")
	}
}
