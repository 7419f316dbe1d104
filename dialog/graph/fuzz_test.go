package graph

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/dialog"
)

// FuzzGraph puts arbitrary staff-written text (an intent name, a prompt, a
// branch value) into a script and draws it in every format: nothing may
// panic, and the SVG must stay well-formed XML.
func FuzzGraph(f *testing.F) {
	for _, s := range []string{"退款", `"]) --> x`, "<script>&amp;", "a\nb\tc", "\xff\xfe", "👍🏽", "{{x}}", "#quot;"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, prompt, value string) {
		src := `name: f
language: zh-CN
start: a
intents:
  agent: {keywords: [人工], handoff: true}
  x: {keywords: [` + strconv.Quote(strings.ToValidUTF8(value, "?")) + `]}
global: [agent]
nodes:
  a:
    say: ` + strconv.Quote(strings.ToValidUTF8(prompt, "?")) + `
    routes: {x: b}
  b:
    branch: {on: "{{last_intent}}", cases: {` + strconv.Quote(strings.ToValidUTF8(value, "?")) + `: a}, default: agent}
  agent:
    say: ` + strconv.Quote(strings.ToValidUTF8(prompt, "?")) + `
    transfer: {to: "sip:q@pbx", on_fail: a}
`
		s, err := dialog.Parse("f.yaml", []byte(src))
		if err != nil {
			return
		}
		g := Build(s)
		_ = g.Mermaid()
		_ = g.DOT()
		svg, err := g.SVG(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		readSVG(t, svg)
	})
}
