package match

import "github.com/hotline-dev/hotline/dialog/textnorm"

// negator is a phrase that, just before a keyword, says the caller does NOT
// want it ("不要人工", "I don't want an agent"). gap is how many words (Latin)
// or characters (Chinese) may stand between it and the keyword.
//
// The list is deliberately short and volitional: a bare "不" or "not" would
// turn "为什么不退款" (why no refund?) or "I do not know my account number"
// into the opposite of what the caller asked about. Contractions are already
// expanded by textnorm.Fold ("don't" → "do not").
var negators = []struct {
	text string
	gap  int
}{
	{"不要", 2}, {"不用", 2}, {"不想", 3}, {"不需要", 3}, {"不必", 2}, {"无需", 2},
	{"不愿意", 3}, {"没必要", 2}, {"不打算", 3}, {"别", 0}, {"甭", 0},
	{"do not want", 4}, {"does not want", 4}, {"did not want", 4}, {"do not wanna", 4},
	{"do not need", 4}, {"does not need", 4}, {"no need", 3}, {"rather not", 4},
	{"not interested", 3}, {"do not", 0}, {"not", 0}, {"no", 0},
}

type hitRef struct {
	sound bool // a hit of the pinyin automaton
	i     int
}

// negations finds the keyword hits that a negator governs: for each negator,
// the nearest keyword starting after it within its gap, in the same clause.
// Only that nearest keyword is negated, so "不要退款要人工" still asks for a person.
func (m *Matcher) negations(units []textnorm.Unit, hits, shits []hit) map[hitRef]string {
	var out map[hitRef]string
	for _, n := range hits {
		np := m.wpat[n.pattern]
		if np.kind != patNegator {
			continue
		}
		nearest := -1
		look := func(list []hit, pats []pattern) {
			for _, h := range list {
				if pats[h.pattern].kind != patKeyword || h.start < n.end || h.start > n.end+np.gap {
					continue
				}
				if nearest == -1 || h.start < nearest {
					nearest = h.start
				}
			}
		}
		look(hits, m.wpat)
		look(shits, m.spat)
		if nearest < 0 || crossesBreak(units, n.end, nearest) {
			continue
		}
		if out == nil {
			out = map[hitRef]string{}
		}
		// The governed span: the keywords starting there, and any keyword inside
		// them ("不需要转人工" governs "人工" as well as "转人工").
		end := nearest
		for _, h := range hits {
			if m.wpat[h.pattern].kind == patKeyword && h.start == nearest {
				end = max(end, h.end)
			}
		}
		for _, h := range shits {
			if m.spat[h.pattern].kind == patKeyword && h.start == nearest {
				end = max(end, h.end)
			}
		}
		for i, h := range hits {
			if m.wpat[h.pattern].kind == patKeyword && h.start >= nearest && h.end <= end {
				out[hitRef{false, i}] = np.text
			}
		}
		for i, h := range shits {
			if m.spat[h.pattern].kind == patKeyword && h.start >= nearest && h.end <= end {
				out[hitRef{true, i}] = np.text
			}
		}
	}
	return out
}

func crossesBreak(units []textnorm.Unit, from, to int) bool {
	for i := from; i < to && i < len(units); i++ {
		if units[i].Kind == textnorm.Break {
			return true
		}
	}
	return false
}
