package sip

import (
	"testing"
)

// FuzzSDPAnswer feeds arbitrary offers to the negotiation: it must not
// panic, and whatever it accepts must yield a well-formed answer.
func FuzzSDPAnswer(f *testing.F) {
	seeds := []string{
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\na=sendonly\r\n",
		"v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\nm=audio 4000 RTP/AVPF 112 0\r\na=rtpmap:112 PCMA/8000\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=00\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\ny=0123\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 224.0.0.1/127\r\nt=0 0\r\nm=audio 4000/2 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=application 9 UDP/BFCP *\r\nm=audio 4000 RTP/AVP 0\r\na=maxptime:10\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, offer []byte) {
		plan, err := negotiate(offer, nil)
		if err != nil {
			if sdpCodeOf(err) == 0 {
				t.Fatalf("error without a SIP status: %v", err)
			}
			return
		}
		ans := (&origin{id: 1, version: 1}).answerSDP(plan, local{host: "192.0.2.1", port: 10000})
		checkAnswer(t, offer, ans, plan)
	})
}

func sdpCodeOf(err error) int {
	code, _ := sdpCode(err)
	return code
}

// FuzzINFO feeds arbitrary INFO bodies to the DTMF decoder: no panic, and a
// decoded digit is a keypad key.
func FuzzINFO(f *testing.F) {
	for _, s := range []string{"Signal=5\r\nDuration=160\r\n", "5", "Signal=10", "signal = #\nduration=99999999999999999999", "=\n=\n"} {
		f.Add("application/dtmf-relay", []byte(s))
		f.Add("application/dtmf", []byte(s))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		isDTMFContentType(ct)
		d, err := parseDTMFInfo(ct, body)
		if err != nil {
			return
		}
		if _, ok := dtmfKey(string(d.Key)); !ok {
			t.Fatalf("decoded %q from %q", d.Key, body)
		}
		if d.Duration < 0 {
			t.Fatalf("negative duration from %q", body)
		}
		parseSipfrag(body)
	})
}
