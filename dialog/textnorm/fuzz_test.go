package textnorm

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"",
	" ",
	"我想查一下我的订单到哪里了,订单号是一二三四五六",
	"hi I'd like to check the status of my order number one two three four five six please",
	"我們的營業時間",
	"乾清宮",
	"ＡＢＣ１２３",
	"一百零五 三万五千 十几个 两三天 周一9点 第一 下午一点",
	"twenty twenty six, nineteen eighty four, double five, a hundred and five",
	"1,000万 1,23四 1.5万 3点五",
	"don't cant won't i'm o'neil",
	"\xff\xfe一\xc0",
	"a \n\n b\r\n",
	"Σ İ ǅ ﬀ ẞ",
}

func FuzzFold(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	// Sequences of the pieces the number rules look at, which byte-level
	// mutation seldom assembles on its own.
	r := rand.New(rand.NewPCG(7, 7))
	for range 64 {
		f.Add(genString(r))
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Fold(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Fold(%q) = %q: invalid UTF-8", s, out)
		}
		if again := Fold(out); again != out {
			t.Fatalf("Fold not idempotent on %q:\n  once:  %q\n  twice: %q", s, out, again)
		}
	})
}

func FuzzUnits(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Raw input too: Units must cope with strings that were not folded.
		checkUnits(t, s, Units(s))
		folded := Fold(s)
		checkUnits(t, folded, Units(folded))
	})
}

func FuzzDigits(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := Digits(s)
		for i := 0; i < len(d); i++ {
			if d[i] < '0' || d[i] > '9' {
				t.Fatalf("Digits(%q) = %q: not all digits", s, d)
			}
		}
		// Folding turns "five" into "5", after which a recogniser's "for"
		// beside it can no longer be read as a spelled four: the homophones
		// are only understood in raw text (which is what callers' turns are).
		if d2 := Digits(Fold(s)); d2 != d && spokenHomophones(s) == s {
			t.Fatalf("Digits(%q) = %q but Digits(Fold) = %q", s, d, d2)
		}
		for _, r := range s {
			if f := Fuzzy(string(r)); Fuzzy(f) != f {
				t.Fatalf("Fuzzy not idempotent on %q", string(r))
			}
			for _, p := range Pinyin(r) {
				if Fuzzy(Fuzzy(p)) != Fuzzy(p) {
					t.Fatalf("Fuzzy not idempotent on %q", p)
				}
			}
		}
		if f := Fuzzy(s); Fuzzy(f) != f {
			t.Fatalf("Fuzzy not idempotent on %q", s)
		}
	})
}
