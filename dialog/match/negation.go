package match

import "github.com/hotline-dev/hotline/dialog/textnorm"

// negator is a phrase that says the caller does NOT want the keyword next to
// it: before it ("不要人工", "I don't want an agent") or, with after set,
// after it ("人工就不用了", "退款不要了"). gap is how many words (Latin) or
// characters (Chinese) may stand between the two.
//
// The list is deliberately volitional: a bare "不" or "not" would turn
// "为什么不退款" (why no refund?) or "I do not know my account number" into
// the opposite of what the caller asked about. Contractions are already
// expanded by textnorm.Fold ("don't" → "do not").
type negator struct {
	text  string
	gap   int
	after bool
}

var negators = []negator{
	{text: "不要", gap: 4}, {text: "不用", gap: 4}, {text: "不想", gap: 4}, {text: "不需要", gap: 4},
	{text: "不必", gap: 3}, {text: "无需", gap: 3}, {text: "不愿意", gap: 4}, {text: "没必要", gap: 3},
	{text: "不打算", gap: 4}, {text: "不是", gap: 2}, {text: "别", gap: 3}, {text: "甭", gap: 3},
	{text: "do not want", gap: 4}, {text: "does not want", gap: 4}, {text: "did not want", gap: 4},
	{text: "do not wanna", gap: 4}, {text: "do not need", gap: 4}, {text: "does not need", gap: 4},
	{text: "no need", gap: 3}, {text: "rather not", gap: 4}, {text: "not interested", gap: 3},
	{text: "do not transfer", gap: 4}, {text: "do not connect", gap: 4}, {text: "do not put me through", gap: 3},
	// A bare "not" right before the keyword ("not sure", "not right"); but
	// no bare "no" or "do not", and "can not"/"does not"… are problems, not
	// refusals: "I have no power", "I cannot pay", "it does not work".
	{text: "not", gap: 0},
	// After the keyword: "人工就不用了", "退款不要了", "转人工算了".
	{text: "不用了", gap: 2, after: true}, {text: "不要了", gap: 2, after: true},
	{text: "不需要了", gap: 2, after: true}, {text: "不必了", gap: 2, after: true},
	{text: "算了", gap: 2, after: true}, {text: "免了", gap: 2, after: true},
}

// notNegations contain a negator without negating anything: "别的订单"
// (another order), "要不要" (do I need…?), "是不是" (is it…?). A negator
// inside one of them is ignored.
var notNegations = []string{
	"别的", "别人", "别处", "别家", "特别", "区别", "分别", "级别", "类别", "告别", "差别", "别墅",
	"要不要", "用不用", "是不是", "想不想", "需不需要", "不要紧", "不用谢", "就不是", "算了算",
	"can not", "could not", "did not", "does not", "is not", "are not", "was not", "were not",
	"has not", "have not", "had not", "will not", "would not",
}

type hitRef struct {
	sound bool // a hit of the pinyin automaton
	i     int
}

// negations finds the keyword hits that a negator governs: the nearest
// keyword within its gap in the same clause (after a leading negator, before
// a trailing one), and any keyword inside that one ("不需要转人工" governs
// "人工" as well as "转人工"). Only the nearest is negated, so
// "不要退款要人工" still asks for a person.
func (m *Matcher) negations(units []textnorm.Unit, hits, shits []hit) map[hitRef]string {
	var out map[hitRef]string
	for _, n := range hits {
		np := m.wpat[n.pattern]
		if np.kind != patNegator || m.insideNotNegation(n, hits) {
			continue
		}
		// The span of the governed keyword(s).
		from, to := -1, -1
		consider := func(h hit) {
			switch {
			case !np.after && h.start >= n.end && h.start <= n.end+np.gap:
				if from == -1 || h.start < from {
					from, to = h.start, h.end
				} else if h.start == from {
					to = max(to, h.end)
				}
			case np.after && h.end <= n.start && h.end >= n.start-np.gap:
				if to == -1 || h.end > to {
					from, to = h.start, h.end
				} else if h.end == to {
					from = min(from, h.start)
				}
			}
		}
		for _, h := range hits {
			if m.wpat[h.pattern].kind == patKeyword {
				consider(h)
			}
		}
		for _, h := range shits {
			if m.spat[h.pattern].kind == patKeyword {
				consider(h)
			}
		}
		if from < 0 {
			continue
		}
		if (!np.after && crossesBreak(units, n.end, from)) || (np.after && crossesBreak(units, to, n.start)) {
			continue
		}
		if out == nil {
			out = map[hitRef]string{}
		}
		for i, h := range hits {
			if m.wpat[h.pattern].kind == patKeyword && h.start >= from && h.end <= to {
				out[hitRef{false, i}] = np.text
			}
		}
		for i, h := range shits {
			if m.spat[h.pattern].kind == patKeyword && h.start >= from && h.end <= to {
				out[hitRef{true, i}] = np.text
			}
		}
	}
	return out
}

// insideNotNegation reports whether a negator hit is part of a phrase that
// does not negate, or of a longer negator ("不要" inside "不要了").
func (m *Matcher) insideNotNegation(n hit, hits []hit) bool {
	for _, h := range hits {
		if !(h.start <= n.start && n.end <= h.end) {
			continue
		}
		switch m.wpat[h.pattern].kind {
		case patNotNegation:
			return true
		case patNegator:
			if h.end-h.start > n.end-n.start {
				return true
			}
		}
	}
	return false
}

// insideRefusal reports whether a keyword hit lies strictly inside a refusal:
// the "要" of "不要了" is not a "yes". A keyword that is the refusal itself
// ("不需要" for "no") is not inside it.
func (m *Matcher) insideRefusal(k hit, hits []hit) bool {
	for _, h := range hits {
		if m.wpat[h.pattern].kind == patNegator && h.start <= k.start && k.end <= h.end && h.end-h.start > k.end-k.start {
			return true
		}
	}
	return false
}

func crossesBreak(units []textnorm.Unit, from, to int) bool {
	for i := from; i < to && i < len(units); i++ {
		if units[i].Kind == textnorm.Break {
			return true
		}
	}
	return false
}
