package match

import (
	"strings"

	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// maxKeywordVariants bounds how many spellings synonyms may add to one keyword.
const maxKeywordVariants = 32

// synonyms are groups of interchangeable words ("订单", "单子", "订单号").
// A keyword containing one member also matches with any other member in its
// place; expansion happens once, at compile time, so matching costs nothing more.
type synonyms struct {
	groups [][][]textnorm.Unit
}

func newSynonyms(groups [][]string) *synonyms {
	s := &synonyms{}
	for _, g := range groups {
		var members [][]textnorm.Unit
		for _, w := range g {
			if u := analyze(w); len(u) > 0 {
				members = append(members, u)
			}
		}
		if len(members) > 1 {
			s.groups = append(s.groups, members)
		}
	}
	return s
}

func unitsKey(units []textnorm.Unit) string {
	var b strings.Builder
	for _, u := range units {
		b.WriteString(u.Text)
		b.WriteByte(0)
	}
	return b.String()
}

// expand returns units and its synonym variants, the original first.
func (s *synonyms) expand(units []textnorm.Unit) [][]textnorm.Unit {
	if len(units) == 0 {
		return nil
	}
	out := [][]textnorm.Unit{units}
	seen := map[string]bool{unitsKey(units): true}
	for _, g := range s.groups {
		// Only the spellings from before this group: a group must not feed on
		// its own output ("要" → "要要" → "要要要" …).
		before := len(out)
		for vi := 0; vi < before && len(out) < maxKeywordVariants; vi++ {
			v := out[vi]
			for _, member := range g {
				for at := indexUnits(v, member, 0); at >= 0; at = indexUnits(v, member, at+1) {
					for _, other := range g {
						nv := make([]textnorm.Unit, 0, len(v)-len(member)+len(other))
						nv = append(nv, v[:at]...)
						nv = append(nv, other...)
						nv = append(nv, v[at+len(member):]...)
						if k := unitsKey(nv); !seen[k] && len(out) < maxKeywordVariants {
							seen[k] = true
							out = append(out, nv)
						}
					}
				}
			}
		}
	}
	return out
}

func indexUnits(hay, needle []textnorm.Unit, from int) int {
	for i := from; i+len(needle) <= len(hay); i++ {
		ok := true
		for j := range needle {
			if hay[i+j].Text != needle[j].Text {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}
