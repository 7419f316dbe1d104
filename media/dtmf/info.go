package dtmf

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"
)

// Content types of SIP INFO bodies that carry a digit.
const (
	ContentTypeDTMFRelay = "application/dtmf-relay" // "Signal=5\r\nDuration=160\r\n"
	ContentTypeDTMF      = "application/dtmf"       // "5" (RFC 2976 examples, some gateways)
)

// maxINFOBody bounds what is parsed; a digit needs a few dozen bytes.
const maxINFOBody = 1024

// ErrNotDTMF is returned (wrapped) for an INFO whose content type carries no digit.
var ErrNotDTMF = errors.New("dtmf: not a DTMF INFO body")

// ParseINFO reads the digit of a SIP INFO request. contentType is the
// Content-Type header (parameters and case are ignored); body is the message
// body. application/dtmf-relay needs a Signal line and may have a Duration in
// milliseconds (missing or unreadable means 0: the digit matters more than its
// length); application/dtmf is the key alone. Keys are 0-9 * # A-D (a-d are
// accepted); dtmf-relay also takes the RFC 4733 event codes 10-15 that some
// phones send for * # A-D.
func ParseINFO(contentType string, body []byte) (key rune, duration time.Duration, err error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: content type %q: %v", ErrNotDTMF, contentType, err)
	}
	if len(body) > maxINFOBody {
		return 0, 0, fmt.Errorf("dtmf: INFO body of %d bytes is too long", len(body))
	}
	switch mt {
	case ContentTypeDTMF:
		key, ok := parseSignal(string(bytes.TrimSpace(body)), false)
		if !ok {
			return 0, 0, fmt.Errorf("dtmf: application/dtmf body %q is not a key", clip(body))
		}
		return key, 0, nil
	case ContentTypeDTMFRelay:
		return parseRelay(body)
	}
	return 0, 0, fmt.Errorf("%w: content type %q", ErrNotDTMF, mt)
}

func parseRelay(body []byte) (rune, time.Duration, error) {
	var key rune
	var dur time.Duration
	for line := range strings.Lines(string(body)) {
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		value = strings.TrimSpace(value)
		if !ok {
			if name == "" {
				continue
			}
			return 0, 0, fmt.Errorf("dtmf: dtmf-relay line %q has no '='", clip([]byte(line)))
		}
		switch strings.ToLower(name) {
		case "signal":
			k, ok := parseSignal(value, true)
			if !ok {
				return 0, 0, fmt.Errorf("dtmf: dtmf-relay Signal %q is not a key", clip([]byte(value)))
			}
			if key != 0 && k != key {
				return 0, 0, errors.New("dtmf: dtmf-relay body has two different Signal lines")
			}
			key = k
		case "duration":
			if ms, err := strconv.ParseUint(value, 10, 32); err == nil && ms <= uint64(MaxDuration/time.Millisecond) {
				dur = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if key == 0 {
		return 0, 0, errors.New("dtmf: dtmf-relay body has no Signal")
	}
	return key, dur, nil
}

// parseSignal reads one key; codes allows the event codes 10-15 too.
func parseSignal(s string, codes bool) (rune, bool) {
	switch len(s) {
	case 1:
		k := rune(s[0])
		if k >= 'a' && k <= 'd' {
			k -= 'a' - 'A'
		}
		return k, ValidKey(k)
	case 2:
		if n, err := strconv.Atoi(s); codes && err == nil && n >= 10 && n <= 15 {
			return Key(uint8(n))
		}
	}
	return 0, false
}

// clip keeps error messages short when a peer sends garbage.
func clip(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "..."
	}
	return string(b)
}
