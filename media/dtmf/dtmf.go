// Package dtmf turns keypad presses into Digits from the three ways they reach a
// call: RFC 4733 telephone-event packets (Receiver; Packets for the sending
// side), tones in the audio itself (Detector, a Goertzel detector with ITU-T
// Q.24 style checks; Tone to generate them) and SIP INFO bodies (ParseINFO).
//
// Nothing here owns a goroutine, a clock or a socket: callers feed packets or
// samples together with the time they arrived, so every part is a plain state
// machine that tests drive deterministically.
package dtmf

import "time"

// Digit is one key press. At is when it started (in the caller's time base,
// usually "since the media session started"); Duration is what was known of
// the press when it was reported, which is early on purpose: a digit is
// reported as soon as it is certain, not when the key is released.
type Digit struct {
	Key      rune // '0'-'9', '*', '#', 'A'-'D'
	Source   string
	At       time.Duration
	Duration time.Duration
}

// Where a digit came from (Digit.Source).
const (
	SourceRFC4733 = "rfc4733"
	SourceInband  = "inband"
	SourceINFO    = "info"
)

// keys is indexed by RFC 4733 event code (0-15).
const keys = "0123456789*#ABCD"

// EventCode is the RFC 4733 event code of a key (lower-case a-d accepted).
func EventCode(key rune) (uint8, bool) {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	for i, k := range keys {
		if k == key {
			return uint8(i), true
		}
	}
	return 0, false
}

// Key is the key of an RFC 4733 event code; false for codes that are not
// DTMF digits (16 is flash, higher codes are other tones).
func Key(code uint8) (rune, bool) {
	if int(code) >= len(keys) {
		return 0, false
	}
	return rune(keys[code]), true
}

// ValidKey reports whether key is one of 0-9 * # A-D (upper case).
func ValidKey(key rune) bool {
	if key >= 'a' && key <= 'd' {
		return false
	}
	_, ok := EventCode(key)
	return ok
}
