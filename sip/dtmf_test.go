package sip

import (
	"testing"
	"time"
)

func TestParseDTMFInfo(t *testing.T) {
	tests := []struct {
		ct, body string
		key      rune
		dur      time.Duration
		bad      bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * time.Millisecond, false},
		{"application/dtmf-relay", "Signal= #\nDuration= 250", '#', 250 * time.Millisecond, false},
		{"application/dtmf-relay", "signal=*", '*', 0, false},
		{"application/dtmf-relay", "Signal=10\r\nDuration=100", '*', 100 * time.Millisecond, false},
		{"application/dtmf-relay", "Signal=11", '#', 0, false},
		{"application/dtmf-relay", "Signal=a", 'A', 0, false},
		{"application/dtmf-relay;charset=utf-8", "Signal=D\r\nDuration=abc", 'D', 0, false},
		{"application/dtmf", "5", '5', 0, false},
		{"application/dtmf", "  0\r\n", '0', 0, false},
		{"application/dtmf-relay", "Signal=55", 0, 0, true},
		{"application/dtmf-relay", "Duration=160", 0, 0, true},
		{"application/dtmf-relay", "Signal=E", 0, 0, true},
		{"application/dtmf", "x", 0, 0, true},
		{"application/dtmf", "", 0, 0, true},
	}
	for _, tt := range tests {
		d, err := parseDTMFInfo(tt.ct, []byte(tt.body))
		if tt.bad {
			if err == nil {
				t.Errorf("%q: want error, got %+v", tt.body, d)
			}
			continue
		}
		if err != nil || d.Key != tt.key || d.Duration != tt.dur {
			t.Errorf("%q: got %q %v %v, want %q %v", tt.body, d.Key, d.Duration, err, tt.key, tt.dur)
		}
	}
	for _, ct := range []string{"application/dtmf-relay", "Application/DTMF", "application/dtmf-relay; x=y"} {
		if _, ok := isDTMFContentType(ct); !ok {
			t.Errorf("%q not recognised", ct)
		}
	}
	if _, ok := isDTMFContentType("application/media_control+xml"); ok {
		t.Error("media_control+xml taken for DTMF")
	}
	d, err := parseDTMFInfo("application/dtmf-relay", dtmfRelayBody(Digit{Key: '9', Duration: 200 * time.Millisecond}))
	if err != nil || d.Key != '9' || d.Duration != 200*time.Millisecond {
		t.Fatalf("round trip: %+v %v", d, err)
	}
}

func TestParseSipfrag(t *testing.T) {
	for _, tt := range []struct {
		body   string
		code   int
		reason string
		bad    bool
	}{
		{"SIP/2.0 100 Trying\r\n", 100, "Trying", false},
		{"SIP/2.0 200 OK", 200, "OK", false},
		{"\r\nSIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n", 486, "Busy Here", false},
		{"SIP/2.0 180", 180, "", false},
		{"SIP/2.0 99 Nope", 0, "", true},
		{"HTTP/1.1 200 OK", 0, "", true},
		{"", 0, "", true},
	} {
		code, reason, err := parseSipfrag([]byte(tt.body))
		if tt.bad != (err != nil) || code != tt.code || reason != tt.reason {
			t.Errorf("%q: %d %q %v", tt.body, code, reason, err)
		}
	}
}

func TestReferTarget(t *testing.T) {
	got := ReferTarget("sip:queue@pbx.example", Header{"X-Hotline-Intent", "refund now"})
	if got != "sip:queue@pbx.example?X-Hotline-Intent=refund%20now" {
		t.Fatal(got)
	}
}
