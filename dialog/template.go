package dialog

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Template is a string with {{variable}} placeholders, parsed once at load.
//
//	"订单{{order | spell}}的状态是:{{result.status | default:"未知"}}。"
//
// A value is inserted as data: it is never parsed as a template itself, and it
// is escaped for where it goes (see Context), so a caller-provided value cannot
// change a URL's path, inject a SIP header or break out of a JSON string.
type Template struct {
	src   string
	parts []tplPart
}

type tplPart struct {
	lit   string
	expr  *tplExpr
	query bool // the placeholder stands after '?' in a URL
}

type tplExpr struct {
	path    []string
	filters []tplFilter
	src     string
}

type tplFilter struct {
	name string
	arg  string
	n    int
}

// Context says how inserted values are escaped.
type Context uint8

const (
	TextContext   Context = iota // prompts: control characters dropped
	URLContext                   // path segments and query values percent-encoded
	HeaderContext                // CR, LF and other control characters dropped, length capped
	rawContext                   // JSON bodies: json.Marshal does the escaping
)

var (
	varPathRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$`)
	varNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

// maxHeaderValue bounds a header built from caller input.
const maxHeaderValue = 512

var filterArity = map[string]int{"default": 1, "spell": 0, "upper": 0, "lower": 0, "last": 1}

// ParseTemplate parses src. Errors name the offending placeholder.
func ParseTemplate(src string) (*Template, error) {
	t := &Template{src: src}
	rest := src
	inQuery := false
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, tplPart{lit: rest})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, tplPart{lit: rest[:i]})
			if strings.Contains(rest[:i], "?") {
				inQuery = true
			}
		}
		rest = rest[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, fmt.Errorf("unclosed {{ in %q", src)
		}
		e, err := parseExpr(rest[:j])
		if err != nil {
			return nil, err
		}
		t.parts = append(t.parts, tplPart{expr: e, query: inQuery})
		rest = rest[j+2:]
	}
}

func parseExpr(src string) (*tplExpr, error) {
	fields := splitPipes(src)
	e := &tplExpr{src: strings.TrimSpace(src)}
	path := strings.TrimSpace(fields[0])
	if path == "" {
		return nil, fmt.Errorf("empty placeholder {{%s}}", src)
	}
	if !varPathRE.MatchString(path) {
		return nil, fmt.Errorf("bad variable %q in {{%s}}: use letters, digits and _, with . for fields", path, src)
	}
	e.path = strings.Split(path, ".")
	for _, f := range fields[1:] {
		f = strings.TrimSpace(f)
		name, arg, hasArg := strings.Cut(f, ":")
		name = strings.TrimSpace(name)
		arity, ok := filterArity[name]
		if !ok {
			return nil, fmt.Errorf("unknown filter %q in {{%s}} (known: default, spell, upper, lower, last)", name, src)
		}
		if hasArg != (arity == 1) {
			if arity == 1 {
				return nil, fmt.Errorf("filter %q needs an argument, e.g. %s:\"…\"", name, name)
			}
			return nil, fmt.Errorf("filter %q takes no argument", name)
		}
		flt := tplFilter{name: name}
		if hasArg {
			arg = strings.TrimSpace(arg)
			if uq, err := strconv.Unquote(arg); err == nil {
				arg = uq
			}
			flt.arg = arg
			if name == "last" {
				n, err := strconv.Atoi(arg)
				if err != nil || n <= 0 {
					return nil, fmt.Errorf("filter last needs a positive number, got %q", arg)
				}
				flt.n = n
			}
		}
		e.filters = append(e.filters, flt)
	}
	return e, nil
}

// splitPipes splits on | outside double quotes.
func splitPipes(s string) []string {
	var out []string
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			quoted = !quoted
		case '|':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// MustTemplate parses src or panics; for literals in code and tests.
func MustTemplate(src string) *Template {
	t, err := ParseTemplate(src)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the template's source.
func (t *Template) String() string {
	if t == nil {
		return ""
	}
	return t.src
}

// Vars returns the root variable names the template uses.
func (t *Template) Vars() []string {
	if t == nil {
		return nil
	}
	var out []string
	for _, p := range t.parts {
		if p.expr != nil {
			out = append(out, p.expr.path[0])
		}
	}
	return out
}

// Render fills the template from vars, escaping values for ctx.
func (t *Template) Render(vars map[string]any, ctx Context) string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.expr == nil {
			b.WriteString(p.lit)
			continue
		}
		v := p.expr.eval(vars)
		switch ctx {
		case URLContext:
			if p.query {
				v = url.QueryEscape(v)
			} else {
				v = url.PathEscape(v)
			}
		case HeaderContext: // made safe as a whole below
		case rawContext:
		default:
			v = textSafe(v)
		}
		b.WriteString(v)
	}
	if ctx == HeaderContext {
		// The whole value, literals included: no line break may reach the wire.
		return headerSafe(b.String())
	}
	return b.String()
}

func (e *tplExpr) eval(vars map[string]any) string {
	v, _ := lookup(vars, e.path)
	s := stringify(v)
	for _, f := range e.filters {
		switch f.name {
		case "default":
			if s == "" {
				s = f.arg
			}
		case "upper":
			s = strings.ToUpper(s)
		case "lower":
			s = strings.ToLower(s)
		case "spell":
			s = spell(s)
		case "last":
			r := []rune(s)
			if len(r) > f.n {
				s = string(r[len(r)-f.n:])
			}
		}
	}
	return s
}

// lookup follows a dotted path through maps and lists (numeric segments index lists).
func lookup(vars map[string]any, path []string) (any, bool) {
	var cur any = vars
	for _, seg := range path {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[seg]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// stringify renders a variable's value: JSON numbers without a needless
// fraction, objects and lists as compact JSON.
func stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case json.Number:
		return x.String()
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

// spell separates characters so a synthesiser reads "123456" as digits, not a number.
func spell(s string) string {
	var b strings.Builder
	for i, r := range []rune(s) {
		if unicode.IsSpace(r) {
			continue
		}
		if i > 0 && b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func textSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func headerSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) > maxHeaderValue {
		// Cut at a character boundary at or before the limit.
		cut := 0
		for i := range s {
			if i > maxHeaderValue {
				break
			}
			cut = i
		}
		if len(s) <= maxHeaderValue {
			cut = len(s)
		}
		s = s[:cut]
	}
	return s
}

// BodyTemplate is a JSON request body whose string leaves are templates.
type BodyTemplate struct {
	value any // map[string]any, []any, *Template, float64, bool, nil
}

// Render builds the JSON body; values are JSON-encoded, never spliced as text.
func (b *BodyTemplate) Render(vars map[string]any) []byte {
	if b == nil {
		return nil
	}
	out, err := json.Marshal(renderBody(b.value, vars))
	if err != nil {
		return nil
	}
	return out
}

// Vars returns the root variable names used by the body.
func (b *BodyTemplate) Vars() []string {
	if b == nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case *Template:
			out = append(out, x.Vars()...)
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(b.value)
	return out
}

func renderBody(v any, vars map[string]any) any {
	switch x := v.(type) {
	case *Template:
		return x.Render(vars, rawContext)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = renderBody(e, vars)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = renderBody(e, vars)
		}
		return l
	}
	return v
}
