package privacy

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tests compute check characters themselves, the way the standards
// define them, rather than with the package's functions.

// testID returns first17 with its GB 11643 check character: the character c
// (X for 10) that makes sum(d_i * 2^(17-i)) + c ≡ 1 (mod 11).
func testID(first17 string) string {
	if len(first17) != 17 {
		panic("testID: need 17 digits")
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * ((1 << (17 - i)) % 11)
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return first17 + "X"
	}
	return first17 + strconv.Itoa(c)
}

// wrongID returns first17 with every check character but the right one.
func wrongIDs(first17 string) []string {
	right := testID(first17)
	var out []string
	for _, c := range "0123456789X" {
		if s := first17 + string(c); s != right {
			out = append(out, s)
		}
	}
	return out
}

// testCard returns prefix with its Luhn check digit appended.
func testCard(prefix string) string {
	sum := 0
	for i := len(prefix) - 1; i >= 0; i-- {
		d := int(prefix[i] - '0')
		if (len(prefix)-1-i)%2 == 0 { // doubled: it is every second digit from the check digit
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return prefix + strconv.Itoa((10-sum%10)%10)
}

func testLuhn(s string) bool {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-1-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// changeDigit returns s with its i-th digit (counting digits only) changed.
func changeDigit(s string, i int) string {
	b := []byte(s)
	for k := range b {
		if b[k] >= '0' && b[k] <= '9' {
			if i == 0 {
				b[k] = '0' + (b[k]-'0'+3)%10
				return string(b)
			}
			i--
		}
	}
	panic("changeDigit: not enough digits")
}

// group writes digits in groups of the given sizes joined by sep.
func group(digits, sep string, sizes ...int) string {
	var parts []string
	for _, n := range sizes {
		parts = append(parts, digits[:n])
		digits = digits[n:]
	}
	if digits != "" {
		parts = append(parts, digits)
	}
	return strings.Join(parts, sep)
}

var (
	hanDigits  = []string{"零", "幺", "二", "三", "四", "五", "六", "七", "八", "九"}
	wideDigits = []string{"０", "１", "２", "３", "４", "５", "６", "７", "８", "９"}
	wordDigits = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
)

// spell writes the digits of s one by one in another form; other
// characters are kept (X stays X, a space stays a space).
func spell(s string, digits []string, sep string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= '0' && r <= '9' {
			if i > 0 && sep != "" && s[i-1] >= '0' && s[i-1] <= '9' {
				b.WriteString(sep)
			}
			b.WriteString(digits[r-'0'])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var today = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func newTestRedactor(opts ...Option) *Redactor {
	return New(append([]Option{WithNow(func() time.Time { return today })}, opts...)...)
}

type redactCase struct {
	name, in, want string
}

func redactCases(t testing.TB) []redactCase {
	var cs []redactCase
	add := func(name, in, want string) { cs = append(cs, redactCase{name, in, want}) }

	// Identity numbers.
	known := "11010519491231002X"
	if testID(known[:17]) != known {
		t.Fatalf("test checksum disagrees with the well-known example: %s", testID(known[:17]))
	}
	id1 := testID("44030419900307123") // Shenzhen, 1990-03-07
	id2 := testID("51010720000229004") // Chengdu, leap day 2000
	id3 := testID("11010520260601001") // born today
	add("id known", "身份证号 "+known, "身份证号 [id]")
	add("id known lower x", "身份证号码是"+strings.ToLower(known)+"。", "身份证号码是[id]。")
	add("id computed", "my ID number is "+id1+", thanks", "my ID number is [id], thanks")
	add("id leap day", "证件号"+id2, "证件号[id]")
	add("id born today", "宝宝的身份证"+id3, "宝宝的身份证[id]")
	add("id grouped 6-8-4", "ID "+group(known, " ", 6, 8), "ID [id]")
	add("id full-width", "身份证"+spell(known[:17], wideDigits, "")+"Ｘ", "身份证[id]")
	add("id chinese", "身份证号"+spell(known[:17], hanDigits, "")+"X", "身份证号[id]")
	add("id english", "it is "+spell(known[:17], wordDigits, " ")+" x", "it is [id]")
	for i, w := range wrongIDs("11010519491231002") {
		add("id wrong checksum "+strconv.Itoa(i), "身份证号 "+w, "身份证号 "+w)
	}
	bad := []string{
		testID("11010519490230001"), // 30 February
		testID("11010518991231001"), // before 1900
		testID("11010520300101001"), // born in 2030
		testID("11010520260602001"), // born tomorrow
		testID("01010519491231001"), // region 0
	}
	for i, b := range bad {
		add("id bad date "+strconv.Itoa(i), "号码"+b, "号码"+b)
	}

	// Cards.
	unionPay := testCard("622202123456789012") // 19 digits
	add("card visa", "card 4111 1111 1111 1111 exp 12/28", "card [card] exp 12/28")
	add("card visa hyphens", "4111-1111-1111-1111", "[card]")
	add("card visa bare", "卡号4111111111111111", "卡号[card]")
	add("card unionpay 4-4-4-4-3", "银行卡号 "+group(unionPay, " ", 4, 4, 4, 4), "银行卡号 [card]")
	add("card unionpay 6-13", "卡号："+group(unionPay, " ", 6), "卡号：[card]")
	add("card unionpay bare", "卡号是"+unionPay+"。", "卡号是[card]。")
	add("card amex 4-6-5", "amex 3782 822463 10005", "amex [card]")
	add("card chinese", "卡号"+spell(unionPay, hanDigits, ""), "卡号[card]")
	add("card english", spell("4111 1111 1111 1111", wordDigits, " ")+" is my card", "[card] is my card")
	add("card full-width", spell("4111 1111 1111 1111", wideDigits, ""), "[card]")
	for i := 0; i < len(unionPay); i += 5 {
		w := changeDigit(unionPay, i)
		in := group(w, " ", 4, 4, 4, 4)
		add("card wrong luhn "+strconv.Itoa(i), "卡号 "+in, "卡号 "+in)
	}
	add("card wrong luhn visa", "4111 1111 1111 1112", "4111 1111 1111 1112")
	nine := testCard("912345678901234") // Luhn-valid, but no card starts with 9
	add("card no issuer", "ref "+nine, "ref "+nine)
	add("card odd grouping", "41 11 11 11 11 11 11 11", "41 11 11 11 11 11 11 11")

	// An 18-digit number with a wrong ID checksum that passes Luhn is a card.
	for _, w := range wrongIDs("44030419900307123") {
		if testLuhn(w) {
			add("wrong id but card", "number "+w, "number [card]")
			break
		}
	}
	// One that is both a valid ID and Luhn-valid is an ID.
	for seq := 0; seq < 1000; seq++ {
		id := testID("4403041990030" + strconv.Itoa(7000+seq))
		if testLuhn(id) && !strings.HasSuffix(id, "X") {
			add("id and luhn", "证件 "+id, "证件 [id]")
			break
		}
	}

	// Chinese mobiles.
	for _, in := range []string{
		"13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "+8613800138000",
		"+86-138-0013-8000", "0086 138 0013 8000", "008613800138000", "8613800138000", "86 138 0013 8000",
		"(+86) 13800138000", "１３８００１３８０００", "１３８－００１３－８０００",
		"幺三八零零一三八零零零", "一三八零零一三八零零零", "幺三八 零零幺三 八零零零", "幺三八，零零幺三，八零零零",
		"one three eight zero zero one three eight zero zero zero",
		"one three eight, zero zero one three, eight zero zero zero",
		"one three eight 0013 8000", "one-three-eight-zero-zero-one-three-eight-zero-zero-zero",
		"幺三八0013 8000",
	} {
		add("mobile "+in, "我的手机号是"+in+"，谢谢", "我的手机号是[phone]，谢谢")
	}
	add("mobile english", "my number is 13800138000.", "my number is [phone].")
	add("mobile two", "13800138000 或 13900139000", "[phone] 或 [phone]")
	add("mobile after other digits", "第1个号码13800138000", "第1个号码[phone]")

	// Chinese landlines.
	for _, in := range []string{
		"010-12345678", "(010)12345678", "（010）12345678", "(010) 1234 5678", "0755-1234-5678",
		"0755 12345678", "02161234567", "021-6123-4567", "+86 21 6123 4567", "+86-10-12345678",
		"零二幺六幺二三四五六七",
	} {
		add("landline "+in, "请拨打"+in+"联系我", "请拨打[phone]联系我")
	}

	// UK.
	for _, in := range []string{
		"07700 900123", "07700900123", "020 7946 0958", "0121 496 0000", "+44 20 7946 0958",
		"+44 (0)20 7946 0958", "+44 7700 900123", "0044 20 7946 0958", "+44.20.7946.0958",
		"oh seven seven double oh nine double oh one two three",
		"oh two oh, seven nine four six, oh nine five eight",
		"zero seven seven zero zero, nine zero zero one two three",
		"plus four four seven seven zero zero nine zero zero one two three",
		"０７７００ ９００１２３",
	} {
		add("uk "+in, "my number is "+in+" thanks", "my number is [phone] thanks")
	}

	// North America.
	for _, in := range []string{
		"(415) 555-0132", "(415)555-0132", "415-555-0132", "415.555.0132", "415 555 0132",
		"1-415-555-0132", "1 (415) 555-0132", "+1 415 555 0132", "+1 (415) 555-0132", "+14155550132",
		"four one five, five five five, zero one three two",
		"four one five five five five zero one three two",
	} {
		add("nanp "+in, "call me at "+in+".", "call me at [phone].")
	}
	add("nanp extension", "415-555-0132 x 12", "[phone] x 12")
	add("nanp oh comma", "Oh, 415-555-0132", "Oh, [phone]")

	// Other international numbers.
	for _, in := range []string{"+49 30 123456", "+33 1 23 45 67 89", "+65 6123 4567", "+81-3-1234-5678"} {
		add("intl "+in, "tel: "+in, "tel: [phone]")
	}

	// E-mail, written and spoken.
	for _, in := range []string{
		"john.smith@example.com", "JOHN.SMITH@EXAMPLE.CO.UK", "zhang_san+tag@mail.example.cn", "a1@b.io",
		"john dot smith at example dot com", "John Dot Smith At Example Dot Com",
		"jane underscore doe at gmail dot com", "bob at company dot co dot uk", "support at acme dot io",
		"li dot lei at qq dot com", "j dash smith at acme dash shop dot de", "john.smith at example dot com",
		"john dot smith@example dot com", "john.smith at example.com", "zhangsan＠163.com",
	} {
		add("email "+in, "邮箱是 "+in+" 谢谢", "邮箱是 [email] 谢谢")
		add("email en "+in, "email "+in+", please", "email [email], please")
	}
	add("email end of sentence", "Write to john@example.com.", "Write to [email].")

	// Overlaps.
	add("phone in email", "13800138000@qq.com", "[phone]@qq.com")
	add("spoken phone in spoken email",
		"one three eight zero zero one three eight zero zero zero at qq dot com", "[phone] at qq dot com")
	add("mixed", "手机13800138000，邮箱li.lei@example.cn，身份证"+known,
		"手机[phone]，邮箱[email]，身份证[id]")

	// Negatives: none of these is personal data.
	for _, in := range []string{
		"订单号20261127001", "order number 20261127001", "订单号 2026 1127 001",
		"金额1,250.00元", "that's $1,250.00", "¥13800.00", "1 250 000 yuan",
		"2026-11-27", "2026年11月27日", "27/11/2026", "2026.11.27", "11/27/2026 10:30",
		"10:30", "10:30:45", "2026-11-27T10:30:45Z", "2026-11-27 10:30:45.123",
		"验证码 123456", "code 654321", "验证码是幺二三四五六", "the year 2026", "二零二六年",
		"4155550132", "1732700000123", "1732700000", "400-820-8820", "800-555-0199", "1-800-555-0199",
		"550e8400-e29b-41d4-a716-446655440000", "SO13800138000", "ref 13800138000abc", "ord-a1-13800138000",
		"192.168.100.200", "v1.13.8", "1920x1080", "3.14159265358979",
		"我想查一下订单", "一二三四五六七八九", "我要买两个，一共三百块", "第一，第二，第三",
		"I have one question and two problems", "Oh, I see", "oh oh oh oh oh oh oh oh oh oh oh",
		"two zero two six one one two seven zero zero one", "order one two three four five six seven eight nine",
		"meet me at the office", "look at this dot on the screen", "I'm at home", "I'll be at home dot it",
		"john at example dot bogus", "price at 5 dot 99", "at dot com", "seven o'clock",
		"room 1203, floor 12", "extension 8021", "1 2 3 4 5 6 7 8 9 10 11 12",
	} {
		add("negative "+in, in, in)
	}
	return cs
}

func TestRedact(t *testing.T) {
	r := newTestRedactor()
	for _, c := range redactCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got := r.Redact(c.in)
			if got != c.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q\nfindings %v", c.in, got, c.want, r.Find(c.in))
			}
			if again := r.Redact(got); again != got {
				t.Errorf("Redact(Redact(%q)) = %q, not %q", c.in, again, got)
			}
			checkFindings(t, c.in, r.Find(c.in))
		})
	}
}

// checkFindings checks findings are in order, inside s, never overlapping,
// with Text == s[Start:End].
func checkFindings(t testing.TB, s string, fs []Finding) {
	t.Helper()
	last := 0
	for _, f := range fs {
		if f.Start < last || f.End <= f.Start || f.End > len(s) {
			t.Fatalf("finding %+v out of order or out of %q", f, s)
		}
		if f.Text != s[f.Start:f.End] {
			t.Fatalf("finding %+v: Text is not s[Start:End] = %q", f, s[f.Start:f.End])
		}
		if f.Kind < KindID || f.Kind > KindEmail {
			t.Fatalf("finding %+v: bad kind", f)
		}
		last = f.End
	}
}

func TestFind(t *testing.T) {
	r := newTestRedactor()
	s := "电话 138 0013 8000，卡 4111 1111 1111 1111，mail a@b.cn，ID 11010519491231002X"
	got := r.Find(s)
	var want []Finding
	for _, w := range []struct {
		k    Kind
		text string
	}{{KindPhone, "138 0013 8000"}, {KindCard, "4111 1111 1111 1111"}, {KindEmail, "a@b.cn"}, {KindID, "11010519491231002X"}} {
		i := strings.Index(s, w.text)
		want = append(want, Finding{w.k, i, i + len(w.text), w.text})
	}
	if len(got) != len(want) {
		t.Fatalf("Find = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("finding %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if f := r.Find("nothing here"); f != nil {
		t.Errorf("Find on clean text = %v, want nil", f)
	}
}

func TestIDBirthDateBound(t *testing.T) {
	future := testID("11010520300101001")
	if got := New().Redact(future); got != "[id]" {
		t.Errorf("without WithNow, a 2030 birth date is accepted: got %q", got)
	}
	if got := newTestRedactor().Redact(future); got != future {
		t.Errorf("with WithNow(2026), a 2030 birth date is rejected: got %q", got)
	}
}

func TestZeroAndNilRedactor(t *testing.T) {
	const in, want = "call 13800138000 or a@b.com", "call [phone] or [email]"
	var zero Redactor
	if got := zero.Redact(in); got != want {
		t.Errorf("zero Redactor: %q", got)
	}
	var nilR *Redactor
	if got := nilR.Redact(in); got != want {
		t.Errorf("nil Redactor: %q", got)
	}
}

func TestWithout(t *testing.T) {
	in := "13800138000@qq.com, 4111 1111 1111 1111, 11010519491231002X, x@y.com"
	for _, c := range []struct {
		off  []Kind
		want string
	}{
		{nil, "[phone]@qq.com, [card], [id], [email]"},
		{[]Kind{KindPhone}, "[email], [card], [id], [email]"},
		{[]Kind{KindEmail}, "[phone]@qq.com, [card], [id], x@y.com"},
		{[]Kind{KindCard, KindID}, "[phone]@qq.com, 4111 1111 1111 1111, 11010519491231002X, [email]"},
		{[]Kind{KindID, KindCard, KindPhone, KindEmail}, in},
	} {
		r := New(Without(c.off...))
		if got := r.Redact(in); got != c.want {
			t.Errorf("Without(%v): %q, want %q", c.off, got, c.want)
		}
		for _, k := range c.off {
			if r.Enabled(k) {
				t.Errorf("Without(%v): %v still enabled", c.off, k)
			}
		}
	}
}

func TestKind(t *testing.T) {
	for _, k := range []Kind{KindID, KindCard, KindPhone, KindEmail} {
		p, err := ParseKind(strings.ToUpper(k.String()))
		if err != nil || p != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), p, err)
		}
		if k.Token() != "["+k.String()+"]" {
			t.Errorf("%v.Token() = %q", k, k.Token())
		}
	}
	if _, err := ParseKind("address"); err == nil {
		t.Error("ParseKind(address): no error")
	}
}

func TestRedactKeepsTextAndDoesNotAllocate(t *testing.T) {
	r := New()
	for _, s := range []string{
		"我想查一下我的订单什么时候发货，一共两件",
		"I'd like to check on my order, it was placed on March 3rd at 10:30",
		"",
	} {
		if got := r.Redact(s); got != s {
			t.Errorf("Redact(%q) = %q", s, got)
		}
		if n := testing.AllocsPerRun(100, func() { r.Redact(s) }); n != 0 {
			t.Errorf("Redact(%q) allocates %v times", s, n)
		}
	}
}

func TestInvalidUTF8(t *testing.T) {
	r := New()
	in := "\xff13800138000\xfe 幺三\xe5八"
	got := r.Redact(in)
	if got != "\xff[phone]\xfe 幺三\xe5八" {
		t.Errorf("Redact(%q) = %q", in, got)
	}
}

func TestEmailNextToDigits(t *testing.T) {
	r := New()
	for _, c := range []struct{ in, want string }{
		{"415-555-0132 x at example dot com", "[phone] [email]"},
		{"my email is john one two at gmail dot com", "my email is john [email]"},
		{"one three eight 0 0 0 0 three eight o o o At 0 dot AA", "one three eight 0 0 0 0 [email]"},
		{"１２３4@x.com", "[email]"},
	} {
		got := r.Redact(c.in)
		if got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
		if again := r.Redact(got); again != got {
			t.Errorf("Redact(%q) = %q, not idempotent: %q", c.in, got, again)
		}
	}
}
