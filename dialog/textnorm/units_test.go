package textnorm

import (
	"strings"
	"testing"
)

// compact renders units as "Kind:Text" (and "/Surface" when it differs).
func compact(us []Unit) string {
	var b strings.Builder
	for i, u := range us {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(u.Kind.String()[:1])
		b.WriteByte(':')
		b.WriteString(u.Text)
		if u.Surface != u.Text {
			b.WriteByte('/')
			b.WriteString(u.Surface)
		}
	}
	return b.String()
}

func checkUnits(t *testing.T, folded string, us []Unit) {
	t.Helper()
	for i, u := range us {
		if u.Start < 0 || u.End > len(folded) || u.Start >= u.End {
			t.Fatalf("Units(%q)[%d] = %+v: bad span", folded, i, u)
		}
		if folded[u.Start:u.End] != u.Surface {
			t.Fatalf("Units(%q)[%d]: Surface %q != folded[%d:%d] %q", folded, i, u.Surface, u.Start, u.End, folded[u.Start:u.End])
		}
		if i > 0 && u.Start < us[i-1].End {
			t.Fatalf("Units(%q)[%d]: overlaps the previous unit", folded, i)
		}
		if u.Kind == Break && (i == 0 || i == len(us)-1 || us[i-1].Kind == Break) {
			t.Fatalf("Units(%q)[%d]: Break at an edge or after a Break", folded, i)
		}
		if u.Kind < Han || u.Kind > Break {
			t.Fatalf("Units(%q)[%d]: bad kind %d", folded, i, u.Kind)
		}
	}
}

func TestUnits(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"...", ""},
		{"我想退款", "H:我 H:想 H:退 H:款"},
		{"hello world", "W:hello W:world"},
		{"checking orders", "W:check/checking W:order/orders"},
		{"订单号是123456", "H:订 H:单 H:号 H:是 N:123456"},
		{"你好,我想退款。谢谢", "H:你 H:好 B:|/, H:我 H:想 H:退 H:款 B:|/。 H:谢 H:谢"},
		{"hi!! ok", "W:hi B:|/!! W:ok"},
		{"hi . , ; ok", "W:hi B:|/. , ; W:ok"},
		{"hi\nok", "W:hi B:|/\n W:ok"},
		{"a、b", "W:a B:|/、 W:b"},
		{"好…吗", "H:好 B:|/… H:吗"},
		{"! hi ?", "W:hi"},
		{"o'neil's phone", "W:o'neil/o'neil's W:phone"},
		{"'quoted' words", "W:quot/quoted W:word/words"},
		{"rock'n'roll", "W:rock'n'rol/rock'n'roll"},
		{"1.5 and 12:30 and 1,5", "N:1 N:5 W:and N:12 N:30 W:and N:1 N:5"},
		{"end. 5", "W:end B:|/. N:5"},
		{"mp3 player", "W:mp N:3 W:player"},
		{"#order *vip* (x) [y] {z} \"q\" 😀", "W:order W:vip W:x W:y W:z W:q"},
		{"привет мир", "W:привет W:мир"},
		{"abcабв", "W:abc W:абв"},
		{"καλημέρα", "W:καλημέρα"},
		{"안녕하세요", "W:안녕하세요"},
		{"カタカナー", "W:カタカナー"},
		{"ひらがな", "W:ひらがな"},
		{"café résumé", "W:café W:résumé"},
		{"wifi密码", "W:wifi H:密 H:码"},
		{"3天", "N:3 H:天"},
		{"Mixed CASE", "W:mix/Mixed W:case/CASE"},
	}
	for _, c := range cases {
		us := Units(c.in)
		checkUnits(t, c.in, us)
		if got := compact(us); got != c.want {
			t.Errorf("Units(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestUnitsInvalidUTF8(t *testing.T) {
	for _, in := range []string{"\xff", "a\xffb", "你\xe4\xb8好", "\xe4\xb8", "1\xff2"} {
		checkUnits(t, in, Units(in))
	}
	if got := compact(Units("a\xffb")); got != "W:a W:b" {
		t.Errorf("Units(a\\xffb) = %q", got)
	}
}

func TestAnalyze(t *testing.T) {
	tx := Analyze("我們想查一下訂單,訂單號是一二三")
	if tx.Folded != "我们想查一下订单,订单号是123" {
		t.Errorf("Folded = %q", tx.Folded)
	}
	checkUnits(t, tx.Folded, tx.Units)
	want := "H:我 H:们 H:想 H:查 H:一 H:下 H:订 H:单 B:|/, H:订 H:单 H:号 H:是 N:123"
	if got := compact(tx.Units); got != want {
		t.Errorf("Units = %q, want %q", got, want)
	}
	tx = Analyze("I don't want THREE boxes")
	if got := compact(tx.Units); got != "W:i W:do W:not W:want N:3 W:box/boxes" {
		t.Errorf("Units = %q", got)
	}
}

func TestStem(t *testing.T) {
	cases := map[string]string{
		"running": "run", "orders": "order", "ordered": "order", "refunds": "refund",
		"cancelled": "cancel", "charging": "charg", "Charges": "charg", "was": "was",
		"does": "does", "i": "i", "ok": "ok", "": "", "o'neil's": "o'neil",
		"generously": "generous", "QUICKLY": "quick", "\xff\xfe": "\ufffd\ufffd",
	}
	for in, want := range cases {
		if got := Stem(in); got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
	}
}

// The stem table only saves time: it must agree with Snowball.
func TestStemTableMatchesSnowball(t *testing.T) {
	loadStemTable()
	for _, w := range strings.Fields(stemVocabulary) {
		if len(w) <= 2 {
			t.Errorf("vocabulary word %q is too short to need the table", w)
		}
		if got, want := stemTable[w], stemSnowball(w); got != want {
			t.Errorf("table stem of %q = %q, Snowball says %q", w, got, want)
		}
	}
}

func TestKindString(t *testing.T) {
	if Han.String() != "Han" || Word.String() != "Word" || Number.String() != "Number" || Break.String() != "Break" || Kind(9).String() != "Kind(9)" {
		t.Error("Kind.String")
	}
}
