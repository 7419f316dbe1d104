package textnorm

import (
	"reflect"
	"testing"
)

func TestPinyin(t *testing.T) {
	cases := []struct {
		r    rune
		want []string
	}{
		{'中', []string{"zhong"}},
		{'绿', []string{"lv", "lu"}},
		{'女', []string{"nv", "ru"}},
		{'略', []string{"lve"}},
		{'行', []string{"xing", "hang", "heng"}},
		{'的', []string{"de", "di"}},
		{'嗯', []string{"n", "ng"}},
		{'〇', []string{"ling", "yuan", "xing"}},
		{'a', nil},
		{'1', nil},
		{'ア', nil},
		{-1, nil},
		{0x10ffff + 1, nil},
		{'\uFFFD', nil},
	}
	for _, c := range cases {
		got := Pinyin(c.r)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Pinyin(%q) = %q, want %q", c.r, got, c.want)
		}
	}
	// Extension B lives in the sparse table.
	if p := Pinyin(0x20000); len(p) == 0 {
		t.Errorf("Pinyin(U+20000) = %q, want a reading", p)
	}
}

func TestPinyinTableClean(t *testing.T) {
	loadPinyin()
	check := func(r rune, list []string) {
		if len(list) == 0 {
			return
		}
		seen := map[string]bool{}
		for _, p := range list {
			if p == "" || seen[p] {
				t.Errorf("Pinyin(%q) = %q: empty or duplicate reading", r, list)
			}
			seen[p] = true
			for _, c := range p {
				if c < 'a' || c > 'z' {
					t.Errorf("Pinyin(%q) = %q: not plain lower-case ASCII", r, list)
				}
			}
		}
		if cap(list) != len(list) {
			t.Errorf("Pinyin(%q): spare capacity would let append corrupt the table", r)
		}
	}
	n := 0
	for i, l := range pyDense {
		check(rune(i+pyDenseLo), l)
		if l != nil {
			n++
		}
	}
	for r, l := range pySparse {
		check(r, l)
		n++
	}
	if n < 20000 {
		t.Errorf("only %d characters have readings", n)
	}
}

func TestFuzzy(t *testing.T) {
	cases := map[string]string{
		"zhang": "zan", "zan": "zan", "chi": "ci", "shi": "si", "si": "si",
		"nan": "lan", "lan": "lan", "ni": "li", "nv": "lv", "ren": "ren", "ri": "ri",
		"fu": "hu", "hu": "hu", "fang": "han", "feng": "hen",
		"ying": "yin", "ling": "lin", "ning": "lin", "xiang": "xian", "huang": "huan",
		"zhuang": "zuan", "shuang": "suan", "yang": "yan", "weng": "wen", "eng": "en", "ang": "an",
		"hong": "hong", "yong": "yong", "jiong": "jiong", "er": "er", "e": "e", "a": "a",
		"n": "n", "ng": "ng", "m": "m", "hm": "hm", "hng": "hng", "": "",
		"zhhi": "zi", "fm": "hm", "fng": "hng", "nng": "lng",
	}
	for in, want := range cases {
		if got := Fuzzy(in); got != want {
			t.Errorf("Fuzzy(%q) = %q, want %q", in, got, want)
		}
	}
	// Idempotent over every reading in the table.
	loadPinyin()
	for _, l := range pyDense {
		for _, p := range l {
			if f := Fuzzy(p); Fuzzy(f) != f {
				t.Errorf("Fuzzy not idempotent on %q", p)
			}
		}
	}
}

func TestFuzzyHomophones(t *testing.T) {
	// Pairs callers and recognisers confuse must share a class.
	// (r/l is deliberately not merged: see Fuzzy.)
	pairs := [][2]rune{{'是', '四'}, {'南', '兰'}, {'福', '湖'}, {'应', '音'}, {'张', '赞'}, {'黄', '环'}, {'风', '分'}}
	for _, p := range pairs {
		a, b := Fuzzy(Pinyin(p[0])[0]), Fuzzy(Pinyin(p[1])[0])
		if a != b {
			t.Errorf("%c (%s) and %c (%s) differ", p[0], a, p[1], b)
		}
	}
}
