package dialog

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a place in a script file, for error messages staff can act on.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Severity says whether a diagnostic stops a script from loading.
type Severity uint8

const (
	Error   Severity = iota + 1 // the script is rejected
	Warning                     // the script loads; `hotline lint` reports it
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diag is one problem found in a script. Its text is looked up by Code in the
// message catalogue, so staff read it in Chinese or English.
type Diag struct {
	Pos      Pos
	Severity Severity
	Code     string
	Args     []any
}

// Message renders the diagnostic in lang ("zh…" for Chinese, anything else English).
func (d Diag) Message(lang string) string {
	m, ok := catalogue[d.Code]
	if !ok {
		return d.Code + fmt.Sprint(d.Args...)
	}
	format := m.en
	if isChinese(lang) {
		format = m.zh
	}
	args := make([]any, len(d.Args))
	for i, a := range d.Args {
		if p, ok := a.(phrase); ok {
			a = p.en
			if isChinese(lang) {
				a = p.zh
			}
		}
		args[i] = a
	}
	return fmt.Sprintf(format, args...)
}

// phrase is a message argument that itself needs translating.
type phrase struct{ en, zh string }

var nouns = map[string]string{"intent": "意图", "node": "节点", "answer": "答案"}

// noun translates the name of a kind of definition.
func noun(en string) phrase { return phrase{en, nouns[en]} }

// Format renders "file:line:col: error: message [code]".
func (d Diag) Format(lang string) string {
	sev := d.Severity.String()
	if isChinese(lang) {
		sev = map[Severity]string{Error: "错误", Warning: "警告"}[d.Severity]
	}
	p := d.Pos.String()
	if p != "" {
		p += ": "
	}
	return fmt.Sprintf("%s%s: %s [%s]", p, sev, d.Message(lang), d.Code)
}

func (d Diag) String() string { return d.Format("en") }

func isChinese(lang string) bool { return strings.HasPrefix(strings.ToLower(lang), "zh") }

// Diags collects problems so a loader can report all of them, not only the first.
type Diags []Diag

func (ds *Diags) add(sev Severity, pos Pos, code string, args ...any) {
	*ds = append(*ds, Diag{Pos: pos, Severity: sev, Code: code, Args: args})
}

func (ds *Diags) errorf(pos Pos, code string, args ...any) { ds.add(Error, pos, code, args...) }
func (ds *Diags) warnf(pos Pos, code string, args ...any)  { ds.add(Warning, pos, code, args...) }

// HasErrors reports whether any diagnostic is an error.
func (ds Diags) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Errors returns only the errors.
func (ds Diags) Errors() Diags { return ds.filter(Error) }

// Warnings returns only the warnings.
func (ds Diags) Warnings() Diags { return ds.filter(Warning) }

func (ds Diags) filter(s Severity) Diags {
	var out Diags
	for _, d := range ds {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Sort orders diagnostics by file, line, column, so output reads top to bottom.
func (ds Diags) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// LoadError is returned when a script has errors. It lists every error found.
type LoadError struct {
	Path  string
	Diags Diags // errors and warnings
}

func (e *LoadError) Error() string { return e.Format("en") }

// Format lists every error, one a line, in lang.
func (e *LoadError) Format(lang string) string {
	errs := e.Diags.Errors()
	var b strings.Builder
	if isChinese(lang) {
		fmt.Fprintf(&b, "脚本 %s 有 %d 个错误:", e.Path, len(errs))
	} else {
		fmt.Fprintf(&b, "script %s has %d error(s):", e.Path, len(errs))
	}
	for _, d := range errs {
		b.WriteString("\n  ")
		b.WriteString(d.Format(lang))
	}
	return b.String()
}
