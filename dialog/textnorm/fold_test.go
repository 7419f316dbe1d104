package textnorm

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

type foldCase struct{ in, want string }

func runFold(t *testing.T, cases []foldCase) {
	t.Helper()
	for _, c := range cases {
		got := Fold(c.in)
		if got != c.want {
			t.Errorf("Fold(%q) = %q, want %q", c.in, got, c.want)
		}
		if again := Fold(got); again != got {
			t.Errorf("Fold not idempotent on %q: %q then %q", c.in, got, again)
		}
	}
}

func TestFoldBasics(t *testing.T) {
	runFold(t, []foldCase{
		{"", ""},
		{"   ", ""},
		{" \t\n\r\u3000 ", ""},
		{"Hello World", "hello world"},
		{"  Hello   \t World  ", "hello world"},
		{"ＡＢＣ１２３", "abc123"},
		{"ＨＥＬＬＯ，ｗｏｒｌｄ！", "hello,world!"},
		{"你好！请问？", "你好!请问?"},
		{"价格：１００元；", "价格:100元;"},
		{"句号。顿号、", "句号。顿号、"},
		{"①②③", "123"},
		{"ﬁle", "file"},
		{"ÉCOLE Ünïcödé", "école ünïcödé"},
		{"ΣΟΦΙΑ", "σοφια"},
		{"ПРИВЕТ", "привет"},
		{"line one\nline two", "line 1\nline 2"},
		{"a \n\n b", "a\nb"},
		{"a\r\nb", "a\nb"},
		{"a\u2028b", "a\nb"},
		{"tab\tseparated", "tab separated"},
		{"zero\u200bwidth", "0 width"},
		{"\ufeffbom", "bom"},
		{"nul\x00byte", "nul byte"},
		{"٣٤٥", "345"},              // Arabic-Indic digits
		{"१२३", "123"},              // Devanagari digits
		{"it’s fine", "it is fine"}, // typographic apostrophe
		{"#order *123* (vip)", "#order *123* (vip)"},
		{"emoji 😀 ok", "emoji 😀 ok"},
	})
}

func TestFoldInvalidUTF8(t *testing.T) {
	for _, in := range []string{"\xff", "a\xffb", "\xe4\xb8", "一\xc0二", "\xed\xa0\x80", string([]byte{0xf4, 0x90, 0x80, 0x80})} {
		got := Fold(in)
		if !utf8.ValidString(got) {
			t.Errorf("Fold(%q) = %q: invalid UTF-8", in, got)
		}
		if Fold(got) != got {
			t.Errorf("Fold not idempotent on %q", in)
		}
	}
	runFold(t, []foldCase{{"a\xffb", "a\ufffdb"}})
}

func TestFoldTraditional(t *testing.T) {
	runFold(t, []foldCase{
		{"我們的營業時間", "我们的营业时间"},
		{"請問您需要什麼幫助", "请问您需要什么帮助"},
		{"退貨", "退货"},
		{"轉人工", "转人工"},
		{"電話號碼", "电话号码"},
		{"一目瞭然", "一目了然"}, // phrase whose trigger is not its first character
		{"乾清宮", "干清宫"},   // t2s alone is not idempotent here; Fold is
		{"兩千", "2000"},   // numbers after t2s
		{"三萬五千", "35000"},
		{"壹佰貳拾元", "120元"},
		{"參加", "参加"},
		{"我們 ABC 123", "我们 abc 123"},
		{"简体不变", "简体不变"},
	})
}

func TestFoldContractions(t *testing.T) {
	runFold(t, []foldCase{
		{"don't", "do not"},
		{"Don't do that", "do not do that"},
		{"I can't", "i can not"},
		{"I cannot", "i can not"},
		{"it won't work", "it will not work"},
		{"isn't", "is not"},
		{"dont cant wont isnt", "do not can not will not is not"},
		{"doesn't didn't haven't hasn't", "does not did not have not has not"},
		{"wasn't weren't aren't", "was not were not are not"},
		{"shouldn't wouldn't couldn't", "should not would not could not"},
		{"DON’T", "do not"},
		{"I'm here", "i am here"},
		{"you're late", "you are late"},
		{"we'll see", "we will see"},
		{"I've paid", "i have paid"},
		{"I'd like", "i would like"},
		{"it's broken", "it is broken"},
		{"what's up", "what is up"},
		{"let's go", "let us go"},
		{"john's order", "john's order"}, // possessive stays
		{"o'neil", "o'neil"},
		{"'quoted'", "'quoted'"},
		{"rock'n'roll", "rock'n'roll"},
	})
}

func TestFoldThousands(t *testing.T) {
	runFold(t, []foldCase{
		{"1,000", "1000"},
		{"1,000,000 yuan", "1000000 yuan"},
		{"12,345.50", "12345.50"},
		{"1,00", "1,00"},
		{"1,000,00", "1,000,00"},
		{"1,2,3", "1,2,3"},
		{"1234,567", "1234,567"},
		{"a1,000", "a1000"},
		{"1,000万", "10000000"},
		{"1,23四", "1234"},
	})
}

func TestFoldConcurrent(t *testing.T) {
	inputs := []string{"我們的營業時間", "一二三四五六", "one two three", "ＡＢＣ", "乾清宮"}
	want := make([]string, len(inputs))
	for i, in := range inputs {
		want[i] = Fold(in)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				for i, in := range inputs {
					if got := Fold(in); got != want[i] {
						t.Errorf("concurrent Fold(%q) = %q, want %q", in, got, want[i])
					}
					Analyze(in)
					Pinyin('中')
				}
			}
		}()
	}
	wg.Wait()
}

func TestFoldLongInput(t *testing.T) {
	in := strings.Repeat("我想查一下订单一二三四五六 one two three ", 2000)
	out := Fold(in)
	if Fold(out) != out {
		t.Error("long input not idempotent")
	}
	if strings.Contains(out, "一二三") {
		t.Error("long input: digits not converted")
	}
}

// Found by fuzzing: contractions whose first part is itself a number or a
// contraction.
func TestFoldContractionEdges(t *testing.T) {
	runFold(t, []foldCase{
		{"four'd", "4 would"},
		{"one'll", "1 will"},
		{"cant'd", "can not would"},
		{"don't'd", "don't'd"},
	})
}

// Found by TestFoldIdempotentGenerated: digits produced by one step join a
// thousands group that makes a unit run convertible.
func TestFoldSeparatorEdges(t *testing.T) {
	runFold(t, []foldCase{
		{"hundred,000万", "1000000000"},
		{"①零,000万", "100000000"},
		{"十,000亿", "1000000000000"},
		{"幺幺,000亿年", "1100000000000年"},
		{"第三,000亿", "第300000000000"},
	})
}
