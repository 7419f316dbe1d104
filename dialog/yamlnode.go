package dialog

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks yaml.v3 nodes by hand, so every value keeps its file:line:col
// and every problem is collected instead of stopping at the first.
type decoder struct {
	file   string
	diags  *Diags
	budget *int // nodes left to visit; bounds alias expansion ("billion laughs")
}

func (d *decoder) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: d.file}
	}
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

// deref follows aliases and charges the node budget.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	*d.budget--
	if *d.budget == 0 {
		d.diags.errorf(d.pos(n), "too-large")
	}
	if *d.budget <= 0 {
		return nil
	}
	return n
}

func kindName(n *yaml.Node) phrase {
	switch n.Kind {
	case yaml.MappingNode:
		return phrase{"a mapping", "映射"}
	case yaml.SequenceNode:
		return phrase{"a list", "列表"}
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return phrase{"nothing", "空值"}
		}
		return phrase{"a single value", "单个值"}
	}
	return phrase{"something else", "其他内容"}
}

func isNull(n *yaml.Node) bool { return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") }

// field describes one known key of a mapping.
type fieldFn func(key, val *yaml.Node)

// mapping calls fields[key] for each key of n, reports unknown keys (with a
// suggestion) and duplicate keys. what names the mapping in messages.
func (d *decoder) mapping(n *yaml.Node, what string, fields map[string]fieldFn) bool {
	n = d.deref(n)
	if n == nil {
		return false
	}
	if n.Kind != yaml.MappingNode {
		d.diags.errorf(d.pos(n), "want-mapping", what, kindName(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.deref(n.Content[i]), n.Content[i+1]
		if k == nil {
			return false
		}
		if !d.key(k, what, seen, false) {
			continue
		}
		fn, ok := fields[k.Value]
		if !ok {
			names := make([]string, 0, len(fields))
			for name := range fields {
				names = append(names, name)
			}
			if s := suggest(k.Value, names); s != "" {
				d.diags.errorf(d.pos(k), "unknown-field-suggest", k.Value, what, s)
			} else {
				d.diags.errorf(d.pos(k), "unknown-field", k.Value, what, strings.Join(sortedCopy(names), ", "))
			}
			continue
		}
		fn(k, v)
	}
	return true
}

// key checks one mapping key: plain text, no merge key, not seen before.
func (d *decoder) key(k *yaml.Node, what string, seen map[string]bool, nonEmpty bool) bool {
	switch {
	case k.Kind != yaml.ScalarNode || (nonEmpty && k.Value == ""):
		d.diags.errorf(d.pos(k), "bad-key", what)
	case k.Value == "<<":
		d.diags.errorf(d.pos(k), "merge-key")
	case seen[k.Value]:
		d.diags.errorf(d.pos(k), "duplicate-key", k.Value, what)
	default:
		seen[k.Value] = true
		return true
	}
	return false
}

type pair struct {
	key string
	pos Pos
	val *yaml.Node
}

// pairs returns the entries of a user-keyed mapping (nodes, intents, routes…) in file order.
func (d *decoder) pairs(n *yaml.Node, what string) []pair { return d.pairsOf(n, what, false) }

// pairsOf is pairs; allowEmpty accepts "" as a key (a branch case for an empty value).
func (d *decoder) pairsOf(n *yaml.Node, what string, allowEmpty bool) []pair {
	n = d.deref(n)
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.diags.errorf(d.pos(n), "want-mapping", what, kindName(n))
		return nil
	}
	var out []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.deref(n.Content[i])
		if k == nil {
			return out
		}
		if !d.key(k, what, seen, !allowEmpty) {
			continue
		}
		out = append(out, pair{key: k.Value, pos: d.pos(k), val: n.Content[i+1]})
	}
	return out
}

// list returns the items of a sequence; a single value counts as a list of one.
func (d *decoder) list(n *yaml.Node, what string) []*yaml.Node {
	n = d.deref(n)
	if n == nil || isNull(n) {
		return nil
	}
	switch n.Kind {
	case yaml.SequenceNode:
		out := make([]*yaml.Node, 0, len(n.Content))
		for _, c := range n.Content {
			if c = d.deref(c); c == nil {
				return out
			}
			out = append(out, c)
		}
		return out
	case yaml.ScalarNode, yaml.MappingNode:
		return []*yaml.Node{n}
	}
	d.diags.errorf(d.pos(n), "want-list", what, kindName(n))
	return nil
}

func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	n = d.deref(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.diags.errorf(d.pos(n), "want-string", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) strs(n *yaml.Node, what string) []string {
	var out []string
	for _, item := range d.list(n, what) {
		if s, ok := d.str(item, what); ok {
			out = append(out, s)
		}
	}
	return out
}

func (d *decoder) boolean(n *yaml.Node, what string) (bool, bool) {
	n = d.deref(n)
	if n == nil {
		return false, false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	d.diags.errorf(d.pos(n), "want-bool", what, n.Value)
	return false, false
}

func (d *decoder) integer(n *yaml.Node, what string, min, max int) (int, bool) {
	n = d.deref(n)
	if n == nil {
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		d.diags.errorf(d.pos(n), "want-int", what, n.Value)
		return 0, false
	}
	if v < min || v > max {
		d.diags.errorf(d.pos(n), "out-of-range", what, v, min, max)
		return 0, false
	}
	return v, true
}

func (d *decoder) float(n *yaml.Node, what string, min, max float64) (float64, bool) {
	n = d.deref(n)
	if n == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || err != nil {
		d.diags.errorf(d.pos(n), "want-number", what, n.Value)
		return 0, false
	}
	if v < min || v > max {
		d.diags.errorf(d.pos(n), "out-of-range", what, n.Value, min, max)
		return 0, false
	}
	return v, true
}

// duration accepts Go durations ("6s", "600ms", "1m30s") within [min, max].
func (d *decoder) duration(n *yaml.Node, what string, min, max time.Duration) (time.Duration, bool) {
	n = d.deref(n)
	if n == nil {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode {
		d.diags.errorf(d.pos(n), "want-duration", what, kindName(n))
		return 0, false
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		if _, numErr := strconv.ParseFloat(n.Value, 64); numErr == nil {
			d.diags.errorf(d.pos(n), "duration-unit", what, n.Value)
		} else {
			d.diags.errorf(d.pos(n), "want-duration", what, n.Value)
		}
		return 0, false
	}
	if v < min || v > max {
		d.diags.errorf(d.pos(n), "out-of-range", what, n.Value, min, max)
		return 0, false
	}
	return v, true
}

// setBool, setInt, setFloat and setDuration make the field functions for
// plain values: parse, check, store.
func (d *decoder) setBool(dst *bool, what string) fieldFn {
	return func(_, v *yaml.Node) {
		if b, ok := d.boolean(v, what); ok {
			*dst = b
		}
	}
}

func (d *decoder) setInt(dst *int, what string, min, max int) fieldFn {
	return func(_, v *yaml.Node) {
		if x, ok := d.integer(v, what, min, max); ok {
			*dst = x
		}
	}
}

func (d *decoder) setFloat(dst *float64, what string, min, max float64) fieldFn {
	return func(_, v *yaml.Node) {
		if x, ok := d.float(v, what, min, max); ok {
			*dst = x
		}
	}
}

func (d *decoder) setDuration(dst *time.Duration, what string, min, max time.Duration) fieldFn {
	return func(_, v *yaml.Node) {
		if x, ok := d.duration(v, what, min, max); ok {
			*dst = x
		}
	}
}

// suggest returns the known name closest to s, if it is close enough to be a typo.
func suggest(s string, known []string) string {
	best, bestD := "", -1
	for _, k := range sortedCopy(known) {
		if d := editDistance(s, k); bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" && bestD <= max(1, len([]rune(best))/3) {
		return best
	}
	return ""
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
