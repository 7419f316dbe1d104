package sip

import (
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"
)

// Digit is a keypad digit received in a SIP INFO.
type Digit struct {
	Key      rune          // '0'-'9', '*', '#', 'A'-'D'
	Duration time.Duration // as the INFO said; 0 when it did not
	At       time.Time     // when the INFO arrived
}

var errNotDTMF = errors.New("not a DTMF INFO body")

// dtmfKey maps a signal value to a key. Besides the characters themselves,
// "10" and "11" are accepted for '*' and '#' (RFC 4733 event numbers, sent by
// some Cisco and Avaya gateways), and 12-15 for A-D.
func dtmfKey(s string) (rune, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 1 {
		c := rune(s[0])
		switch {
		case c >= '0' && c <= '9', c == '*', c == '#':
			return c, true
		case c >= 'A' && c <= 'D':
			return c, true
		case c >= 'a' && c <= 'd':
			return c - 'a' + 'A', true
		}
		return 0, false
	}
	switch s {
	case "10":
		return '*', true
	case "11":
		return '#', true
	case "12", "13", "14", "15":
		return rune('A' + (s[1] - '2')), true
	}
	return 0, false
}

// isDTMFContentType says whether an INFO Content-Type is one we decode.
func isDTMFContentType(ct string) (string, bool) {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	}
	switch mt {
	case "application/dtmf-relay", "application/dtmf":
		return mt, true
	}
	return mt, false
}

// parseDTMFInfo decodes an INFO body of type application/dtmf-relay
// ("Signal=5\r\nDuration=160") or application/dtmf ("5"). Both forms are
// accepted under either type, since equipment mixes them up.
func parseDTMFInfo(contentType string, body []byte) (Digit, error) {
	if len(body) > 1024 {
		return Digit{}, fmt.Errorf("%w: body too long", errNotDTMF)
	}
	text := strings.TrimSpace(string(body))
	if text == "" {
		return Digit{}, fmt.Errorf("%w: empty body", errNotDTMF)
	}
	if !strings.Contains(text, "=") {
		// application/dtmf: the key alone.
		k, ok := dtmfKey(text)
		if !ok {
			return Digit{}, fmt.Errorf("%w: %q", errNotDTMF, text)
		}
		return Digit{Key: k}, nil
	}
	var d Digit
	haveKey := false
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' }) {
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "signal":
			k, ok := dtmfKey(value)
			if !ok {
				return Digit{}, fmt.Errorf("%w: signal %q", errNotDTMF, strings.TrimSpace(value))
			}
			d.Key, haveKey = k, true
		case "duration":
			ms, err := strconv.Atoi(strings.TrimSpace(value))
			if err == nil && ms > 0 && ms < 60000 {
				d.Duration = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if !haveKey {
		return Digit{}, fmt.Errorf("%w: no Signal line", errNotDTMF)
	}
	return d, nil
}

// dtmfRelayBody is what we send in an INFO.
func dtmfRelayBody(d Digit) []byte {
	ms := d.Duration.Milliseconds()
	if ms <= 0 {
		ms = 160
	}
	return []byte(fmt.Sprintf("Signal=%c\r\nDuration=%d\r\n", d.Key, ms))
}

// parseSipfrag reads the status line of a message/sipfrag body
// ("SIP/2.0 200 OK").
func parseSipfrag(body []byte) (int, string, error) {
	text := strings.TrimLeft(string(body), " \r\n\t")
	line, _, _ := strings.Cut(text, "\n")
	line = strings.TrimSpace(line)
	rest, ok := strings.CutPrefix(line, "SIP/2.0 ")
	if !ok {
		return 0, "", fmt.Errorf("sipfrag: no status line in %q", line)
	}
	codeStr, reason, _ := strings.Cut(rest, " ")
	code, err := strconv.Atoi(codeStr)
	if err != nil || code < 100 || code > 699 {
		return 0, "", fmt.Errorf("sipfrag: bad status code %q", codeStr)
	}
	return code, strings.TrimSpace(reason), nil
}
