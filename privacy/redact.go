package privacy

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind is a kind of personal data the Redactor finds. The order of the
// constants is the order of preference when two findings overlap: an ID beats
// a card, a card beats a phone number, a phone number beats an e-mail address.
type Kind uint8

// The kinds of personal data, in order of preference.
const (
	KindID    Kind = iota + 1 // Chinese resident identity card number
	KindCard                  // payment card number (Luhn)
	KindPhone                 // telephone number
	KindEmail                 // e-mail address, written or spoken
)

var kindNames = [...]string{KindID: "id", KindCard: "card", KindPhone: "phone", KindEmail: "email"}
var kindTokens = [...]string{KindID: "[id]", KindCard: "[card]", KindPhone: "[phone]", KindEmail: "[email]"}

// String returns the kind's name: "id", "card", "phone" or "email".
func (k Kind) String() string {
	if k >= KindID && k <= KindEmail {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Token returns the text that replaces a finding of this kind: "[id]",
// "[card]", "[phone]" or "[email]".
func (k Kind) Token() string {
	if k >= KindID && k <= KindEmail {
		return kindTokens[k]
	}
	return "[redacted]"
}

// ParseKind returns the kind named s ("id", "card", "phone" or "email",
// case-insensitive), for configuration files.
func ParseKind(s string) (Kind, error) {
	for k := KindID; k <= KindEmail; k++ {
		if strings.EqualFold(strings.TrimSpace(s), kindNames[k]) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("privacy: unknown kind %q (want id, card, phone or email)", s)
}

// Finding is one piece of personal data in a text. Start and End are byte
// offsets into the text that was searched and Text is text[Start:End], as it
// was written (spaces, hyphens, spelled-out digits and all).
type Finding struct {
	Kind       Kind
	Start, End int
	Text       string
}

// Redactor finds and replaces personal data in text. The zero value (and a
// nil *Redactor) finds every kind and does not check ID birth dates against
// the current date. A Redactor is not changed after New and is safe for
// concurrent use.
type Redactor struct {
	off uint8            // bit k set: Kind k is not looked for
	now func() time.Time // nil: no upper bound on ID birth dates
}

// Option configures a Redactor.
type Option func(*Redactor)

// Without turns kinds off: they are neither found nor replaced.
func Without(kinds ...Kind) Option {
	return func(r *Redactor) {
		for _, k := range kinds {
			if k >= KindID && k <= KindEmail {
				r.off |= 1 << k
			}
		}
	}
}

// WithNow makes the Redactor reject identity numbers whose birth date is
// after now(): tests pass a fixed clock, hotline passes time.Now. Without it
// any birth date from 1900-01-01 on is accepted.
func WithNow(now func() time.Time) Option {
	return func(r *Redactor) { r.now = now }
}

// New returns a Redactor that looks for every kind unless told otherwise.
func New(opts ...Option) *Redactor {
	r := &Redactor{}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Enabled reports whether the Redactor looks for kind k.
func (r *Redactor) Enabled(k Kind) bool {
	if k < KindID || k > KindEmail {
		return false
	}
	return r == nil || r.off&(1<<k) == 0
}

func (r *Redactor) clock() func() time.Time {
	if r == nil {
		return nil
	}
	return r.now
}

// span is a finding without its text.
type span struct {
	kind       Kind
	start, end int
}

// Find returns the personal data in s, in order, never overlapping. It
// returns nil when there is none.
func (r *Redactor) Find(s string) []Finding {
	spans := r.find(s)
	if len(spans) == 0 {
		return nil
	}
	out := make([]Finding, len(spans))
	for i, sp := range spans {
		out[i] = Finding{Kind: sp.kind, Start: sp.start, End: sp.end, Text: s[sp.start:sp.end]}
	}
	return out
}

// Redact returns s with every finding replaced by its kind's token (see
// Kind.Token). The text between findings is kept byte for byte. When there is
// nothing to redact it returns s itself and does not allocate.
func (r *Redactor) Redact(s string) string {
	out, _ := r.redact(s)
	return out
}

// redact is Redact that also says whether it changed anything.
func (r *Redactor) redact(s string) (string, bool) {
	spans := r.find(s)
	if len(spans) == 0 {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.start])
		b.WriteString(sp.kind.Token())
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// find runs the digit detectors (ID, card, phone), then the e-mail detector
// with the digit findings as barriers, and merges the two sorted lists.
func (r *Redactor) find(s string) []span {
	var digits []span
	if r.Enabled(KindID) || r.Enabled(KindCard) || r.Enabled(KindPhone) {
		sc := digitScanner{s: s, r: r, now: r.clock(), lastWord: -1}
		sc.scan()
		digits = sc.found
	}
	if !r.Enabled(KindEmail) {
		return digits
	}
	es := emailScanner{s: s, bars: digits}
	es.scan()
	if len(es.cands) == 0 {
		return digits
	}
	if r.Enabled(KindID) || r.Enabled(KindCard) || r.Enabled(KindPhone) {
		// An address must not cut a group of digits in two ("... three
		// eight oh at ..."): what is left of the group would be read
		// differently once the address is replaced. It takes the whole group.
		rec := digitScanner{s: s, r: r, now: r.clock(), lastWord: -1, record: true}
		rec.scan()
		for i := range es.cands {
			widen(&es.cands[i], rec.spans)
		}
	}
	mails := resolve(es.cands, nil)
	if len(digits) == 0 {
		return mails
	}
	// Widening never reaches into a digit finding (those are whole groups);
	// make sure findings cannot overlap all the same.
	mails = slices.DeleteFunc(mails, func(m span) bool {
		for _, d := range digits {
			if m.start < d.end && d.start < m.end {
				return true
			}
		}
		return false
	})
	all := append(digits, mails...)
	slices.SortFunc(all, func(a, b span) int { return a.start - b.start })
	return all
}

// widen makes c cover every group it cuts.
func widen(c *span, groups []span) {
	for _, g := range groups {
		if g.start < c.start && c.start < g.end {
			c.start = g.start
		}
		if g.start < c.end && c.end < g.end {
			c.end = g.end
		}
	}
}

// resolve picks non-overlapping candidates: by kind (in order of
// preference), then the longest, then the first. The result, appended to out,
// is sorted by position.
func resolve(cands, out []span) []span {
	if len(cands) == 1 {
		return append(out, cands[0])
	}
	slices.SortFunc(cands, func(a, b span) int {
		if a.kind != b.kind {
			return int(a.kind) - int(b.kind)
		}
		if la, lb := a.end-a.start, b.end-b.start; la != lb {
			return lb - la
		}
		return a.start - b.start
	})
	base := len(out)
	for _, c := range cands {
		acc := out[base:]
		// First accepted span that starts at or after c.end; only the one
		// before it can overlap c, because accepted spans are disjoint.
		lo, hi := 0, len(acc)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if acc[m].start < c.end {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo > 0 && acc[lo-1].end > c.start {
			continue
		}
		out = slices.Insert(out, base+lo, c)
	}
	return out
}
