package dtmf

import (
	"errors"
	"testing"
	"time"
)

func TestParseINFO(t *testing.T) {
	for _, c := range []struct {
		ct, body string
		key      rune
		dur      time.Duration
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * time.Millisecond},
		{"application/dtmf-relay", "Signal=5\r\nDuration=160", '5', 160 * time.Millisecond},
		{"Application/DTMF-Relay; charset=utf-8", "signal = #\nduration = 250\n", '#', 250 * time.Millisecond},
		{"application/dtmf-relay", "Signal=*", '*', 0},
		{"application/dtmf-relay", "Signal=10\r\nDuration=100", '*', 100 * time.Millisecond},
		{"application/dtmf-relay", "Signal=11\r\nDuration=100", '#', 100 * time.Millisecond},
		{"application/dtmf-relay", "Signal=d\r\nDuration=x", 'D', 0},
		{"application/dtmf-relay", "\r\nSignal=0\r\n\r\nDuration=-5\r\nFoo=bar\r\n", '0', 0},
		{"application/dtmf-relay", "Signal=3\r\nSignal=3\r\n", '3', 0},
		{"application/dtmf", "7", '7', 0},
		{"application/dtmf", " 9\r\n", '9', 0},
		{"application/dtmf", "A", 'A', 0},
	} {
		key, dur, err := ParseINFO(c.ct, []byte(c.body))
		if err != nil || key != c.key || dur != c.dur {
			t.Errorf("ParseINFO(%q, %q) = %q, %v, %v; want %q, %v", c.ct, c.body, key, dur, err, c.key, c.dur)
		}
	}
}

func TestParseINFOErrors(t *testing.T) {
	for _, c := range []struct{ ct, body string }{
		{"application/dtmf-relay", ""},
		{"application/dtmf-relay", "Duration=160"},
		{"application/dtmf-relay", "Signal=\r\n"},
		{"application/dtmf-relay", "Signal=X"},
		{"application/dtmf-relay", "Signal=55"},
		{"application/dtmf-relay", "Signal=16"},
		{"application/dtmf-relay", "Signal=1\r\nSignal=2"},
		{"application/dtmf-relay", "Signal 5"},
		{"application/dtmf-relay", "Signal=5" + string(make([]byte, 2000))},
		{"application/dtmf", ""},
		{"application/dtmf", "12"},
		{"application/dtmf", "10"},
		{"application/dtmf", "e"},
		{"text/plain", "5"},
		{"", "5"},
		{"application/", "5"},
	} {
		if key, _, err := ParseINFO(c.ct, []byte(c.body)); err == nil {
			t.Errorf("ParseINFO(%q, %q) = %q, want an error", c.ct, c.body, key)
		}
	}
	if _, _, err := ParseINFO("application/sdp", []byte("v=0")); !errors.Is(err, ErrNotDTMF) {
		t.Errorf("SDP body: %v, want ErrNotDTMF", err)
	}
}

func FuzzINFO(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf-relay; x=\"y\"", []byte("signal=10\nduration=99999999999"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		key, dur, err := ParseINFO(ct, body)
		if err != nil {
			if key != 0 || dur != 0 {
				t.Fatalf("error with a result: %q %v %v", key, dur, err)
			}
			return
		}
		if !ValidKey(key) || dur < 0 || dur > MaxDuration {
			t.Fatalf("ParseINFO(%q, %q) = %q, %v", ct, body, key, dur)
		}
	})
}
