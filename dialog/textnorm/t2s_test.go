package textnorm

import (
	"testing"
	"unicode"
)

// Skipping opencc is only correct if every string it would change contains
// a trigger: check every Han character and every dictionary phrase.
func TestT2STriggersComplete(t *testing.T) {
	loadT2S()
	if t2sConv == nil {
		t.Fatal("opencc t2s did not load")
	}
	checked := 0
	for _, rt := range unicode.Han.R16 {
		for r := rune(rt.Lo); r <= rune(rt.Hi); r += rune(rt.Stride) {
			checkT2SRune(t, r)
			checked++
		}
	}
	for _, rt := range unicode.Han.R32 {
		for r := rune(rt.Lo); r <= rune(rt.Hi) && r < 0x30000; r += rune(rt.Stride) {
			checkT2SRune(t, r)
			checked++
		}
	}
	for _, g := range t2sConv.DictChains {
		for _, d := range g.Dicts {
			for _, id := range d.Trie.PrefixPredict(nil, 0) {
				k, err := d.Trie.Key(id)
				if err != nil {
					t.Fatal(err)
				}
				key := string(k)
				if out, _ := t2sConv.Convert(key); out != key && !needsT2S(key) {
					t.Errorf("%q converts to %q but has no trigger", key, out)
				}
				checked++
			}
		}
	}
	if checked < 90000 {
		t.Errorf("checked only %d strings", checked)
	}
}

func checkT2SRune(t *testing.T, r rune) {
	s := string(r)
	if needsT2S(s) {
		return
	}
	if out, _ := t2sConv.Convert(s); out != s {
		t.Errorf("%q converts to %q but is no trigger", s, out)
	}
}

func TestT2SSkipsSimplified(t *testing.T) {
	for _, s := range []string{benchZH, "我想退款", "请问营业时间", "转人工", "hello", ""} {
		if needsT2S(s) {
			t.Errorf("needsT2S(%q) = true; Simplified text should skip opencc", s)
		}
	}
	for _, s := range []string{"我們", "營業", "乾", "瞭"} {
		if !needsT2S(s) {
			t.Errorf("needsT2S(%q) = false", s)
		}
	}
}
