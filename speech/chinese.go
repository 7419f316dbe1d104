package speech

import (
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// chineseNumbers writes numbers out in Chinese numerals for espeak-ng's
// Chinese voices. espeak-ng 1.51 reads hanzi numerals well but Arabic ones
// badly: "12315" comes out as 十二千三百十五, "10000" as 十千, "3.5" as 三五
// (the point dropped), "2026年" as 二千二十六年 and "50%" with an English
// "percent". What callers expect instead:
//
//	按1          → 按一                  small numbers as numbers
//	12000元      → 一万二千元            numbers before a unit
//	12315        → 幺二三幺五            longer codes digit by digit, 1 as 幺
//	0571 / 1 2 3 → 零五七幺 / 幺 二 三   leading zero, spelled digits
//	138-0013-8000 or 138 0013 8000 → digit groups with a pause between
//	2026年       → 二零二六年            years
//	9:00-21:00   → 九点到二十一点        times and ranges
//	3.5 / 50%    → 三点五 / 百分之五十
//	# / *        → 井号 / 星号
//
// mandarin chooses 幺 for the digit 1 in codes (Cantonese says 一).
func chineseNumbers(s string, mandarin bool) string {
	if !strings.ContainsAny(s, "0123456789#*") {
		return s
	}
	one := "幺"
	if !mandarin {
		one = "一"
	}
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == '#':
			b.WriteString("井")
			if i+1 >= len(rs) || rs[i+1] != '号' {
				b.WriteString("号")
			}
			i++
			continue
		case r == '*':
			b.WriteString("星")
			if i+1 >= len(rs) || rs[i+1] != '号' {
				b.WriteString("号")
			}
			i++
			continue
		case !isDigit(r):
			b.WriteRune(r)
			i++
			continue
		}
		c, next := scanChain(rs, i)
		var after rune
		if next < len(rs) {
			after = rs[next]
		}
		b.WriteString(c.read(after, one))
		if c.percent {
			next++
		}
		i = next
	}
	return b.String()
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// item is one number: digits, and a fraction or minutes after '.' or ':'.
type item struct {
	whole, frac string
	sep         rune // '.' or ':' before frac
}

func (it item) digits() int { return len(it.whole) + len(it.frac) }

// chain is numbers joined by ranges or spaces: "9:00-21:00", "138 0013 8000".
type chain struct {
	items   []item
	seps    []rune // between items: '-' for a dash or tilde, ' ' for a space
	percent bool   // a '%' right after the last item
}

// scanChain reads the numbers starting at rs[i] and returns the index after them.
func scanChain(rs []rune, i int) (chain, int) {
	var c chain
	for {
		var it item
		j := i
		for j < len(rs) && isDigit(rs[j]) {
			j++
		}
		it.whole = string(rs[i:j])
		if j+1 < len(rs) && (rs[j] == '.' || rs[j] == ':') && isDigit(rs[j+1]) {
			k := j + 1
			for k < len(rs) && isDigit(rs[k]) {
				k++
			}
			it.sep, it.frac = rs[j], string(rs[j+1:k])
			j = k
		}
		c.items = append(c.items, it)
		i = j
		// Another number after a dash, a tilde or one space?
		k := i
		if k < len(rs) && rs[k] == ' ' {
			k++
		}
		sep := ' '
		if k < len(rs) && strings.ContainsRune("-–—~", rs[k]) {
			sep = '-'
			k++
			if k < len(rs) && rs[k] == ' ' {
				k++
			}
		}
		if k == i || k >= len(rs) || !isDigit(rs[k]) {
			break
		}
		c.seps = append(c.seps, sep)
		i = k
	}
	if i < len(rs) && rs[i] == '%' {
		c.percent = true
	}
	return c, i
}

// units are characters after which a long number is a quantity, not a code.
const units = "元块角分万亿个人次天年月日号件条台张位名份斤公里米克吨度岁秒小时"

func (c chain) read(after rune, one string) string {
	total := 0
	for _, it := range c.items {
		total += it.digits()
	}
	spaced := false
	for _, s := range c.seps {
		spaced = spaced || s == ' '
	}
	n := len(c.items)
	switch {
	case n >= 2 && total >= 5 && (spaced || n >= 3 || c.items[0].digits() > 4 || c.items[1].digits() > 4):
		// A phone number or a spelled code: digit groups, a pause between.
		parts := make([]string, n)
		for i, it := range c.items {
			parts[i] = spell(it.whole+it.frac, one)
		}
		return strings.Join(parts, " ")
	case n == 2 && !spaced:
		return c.items[0].read(0, one, false) + "到" + c.items[1].read(after, one, c.percent)
	case n >= 2:
		parts := make([]string, n)
		for i, it := range c.items {
			parts[i] = it.read(0, one, false)
		}
		parts[n-1] = c.items[n-1].read(after, one, c.percent)
		return strings.Join(parts, " ")
	}
	return c.items[0].read(after, one, c.percent)
}

func (it item) read(after rune, one string, percent bool) string {
	var s string
	switch {
	case it.sep == ':':
		s = clock(it.whole, it.frac)
	case it.sep == '.':
		s = cardinalString(it.whole) + "点" + spell(it.frac, "一")
	case len(it.whole) == 4 && after == '年':
		s = spell(it.whole, "一")
	case len(it.whole) > 1 && it.whole[0] == '0',
		len(it.whole) >= 5 && !strings.ContainsRune(units, after),
		len(it.whole) > 16:
		s = spell(it.whole, one)
	default:
		s = cardinalString(it.whole)
	}
	if percent {
		return "百分之" + s
	}
	return s
}

// clock reads "9:30" as 九点三十分, "9:00" as 九点, "2:00" as 两点; what is
// not a time of day ("3:1") is a ratio, 三比一.
func clock(h, m string) string {
	hv, mv := atoi(h), atoi(m)
	if len(h) > 2 || len(m) != 2 || hv > 24 || mv > 59 {
		return cardinalString(h) + "比" + cardinalString(m)
	}
	out := cardinal(hv)
	if hv == 2 {
		out = "两"
	}
	out += "点"
	switch {
	case mv == 0:
	case mv < 10:
		out += "零" + cardinal(mv) + "分"
	default:
		out += cardinal(mv) + "分"
	}
	return out
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
		if n > 1e9 {
			return n
		}
	}
	return n
}

var cnDigits = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}

// spell reads digits one by one.
func spell(s, one string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '1' {
			b.WriteString(one)
		} else {
			b.WriteString(cnDigits[r-'0'])
		}
	}
	return b.String()
}

// cardinalString reads a string of up to 16 digits as a number.
func cardinalString(s string) string {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return "零"
	}
	if len(s) > 16 {
		return spell(s, "一")
	}
	var n uint64
	for _, r := range s {
		n = n*10 + uint64(r-'0')
	}
	return cardinalU(n)
}

func cardinal(n int) string { return cardinalU(uint64(n)) }

// cardinalU writes n < 10^16 in Chinese numerals: 一万零五, 一千零五十, 十五.
func cardinalU(n uint64) string {
	if n == 0 {
		return "零"
	}
	big := []string{"", "万", "亿", "万亿"}
	var groups []int
	for n > 0 {
		groups = append(groups, int(n%10000))
		n /= 10000
	}
	var b strings.Builder
	gap := false // a zero group, or zeros at the top of this one, since the last digits
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		if g == 0 {
			gap = b.Len() > 0
			continue
		}
		if b.Len() > 0 && (gap || g < 1000) {
			b.WriteString("零")
		}
		b.WriteString(group(g))
		b.WriteString(big[i])
		gap = false
	}
	out := b.String()
	// 10–19 at the head: 十五, not 一十五 (but 一百一十五 keeps it).
	if strings.HasPrefix(out, "一十") {
		out = strings.TrimPrefix(out, "一")
	}
	return out
}

// group writes 1..9999.
func group(g int) string {
	unit := []string{"", "十", "百", "千"}
	var b strings.Builder
	zero := false
	for pos, p := 3, 1000; pos >= 0; pos, p = pos-1, p/10 {
		d := g / p % 10
		if d == 0 {
			zero = b.Len() > 0
			continue
		}
		if zero {
			b.WriteString("零")
			zero = false
		}
		b.WriteString(cnDigits[d])
		b.WriteString(unit[pos])
	}
	return b.String()
}

// polyphones are words that espeak-ng 1.51's Mandarin dictionary reads wrong
// (checked one by one against its reading of the same word in pinyin): 地址
// comes out as "de zhi", 银行 as "yin xing", 还款 as "hai kuan", 重新 as
// "zhong xin", 调整 as "diao zheng". Written in tone-numbered pinyin, which
// the cmn-latn-pinyin voice reads as written. Common customer-service words
// first; add to it when a prompt is misread.
var polyphones = map[string]string{
	"重新": "chong2xin1", "重复": "chong2fu4", "重置": "chong2zhi4", "重拨": "chong2bo1", "重启": "chong2qi3",
	"重来": "chong2lai2", "重试": "chong2shi4", "重发": "chong2fa1", "重填": "chong2tian2", "重办": "chong2ban4",
	"处理": "chu3li3", "处罚": "chu3fa2", "处置": "chu3zhi4",
	"地区": "di4qu1", "地址": "di4zhi3", "地点": "di4dian3", "地方": "di4fang1", "当地": "dang1di4", "外地": "wai4di4",
	"本地": "ben3di4", "各地": "ge4di4", "地铁": "di4tie3", "地图": "di4tu2", "目的地": "mu4di4di4", "异地": "yi4di4",
	"假日": "jia4ri4", "节假日": "jie2jia4ri4", "放假": "fang4jia4", "请假": "qing3jia4", "休假": "xiu1jia4",
	"假期": "jia4qi1", "年假": "nian2jia4", "病假": "bing4jia4",
	"了解": "liao3jie3",
	"银行": "yin2hang2", "行长": "hang2zhang3", "行业": "hang2ye4", "支行": "zhi1hang2", "分行": "fen1hang2", "总行": "zong3hang2",
	"长大": "zhang3da4", "店长": "dian4zhang3", "组长": "zu3zhang3", "部长": "bu4zhang3", "家长": "jia1zhang3",
	"校长": "xiao4zhang3", "班长": "ban1zhang3", "处长": "chu4zhang3", "董事长": "dong3shi4zhang3", "站长": "zhan4zhang3",
	"还款": "huan2kuan3", "还钱": "huan2qian2", "退还": "tui4huan2", "归还": "gui1huan2", "偿还": "chang2huan2",
	"还贷": "huan2dai4", "还清": "huan2qing1", "返还": "fan3huan2", "还本": "huan2ben3",
	"音乐": "yin1yue4",
	"便宜": "pian2yi5",
	"得到": "de2dao4", "获得": "huo4de2", "取得": "qu3de2", "不得不": "bu4de2bu4",
	"睡觉": "shui4jiao4",
	"调整": "tiao2zheng3", "空调": "kong1tiao2", "协调": "xie2tiao2", "调价": "tiao2jia4", "调解": "tiao2jie3",
	"出差": "chu1chai1", "差价": "cha1jia4", "误差": "wu4cha1", "差额": "cha1e2", "差距": "cha1ju4",
	"回应": "hui2ying4", "供应": "gong1ying4", "应用": "ying4yong4", "响应": "xiang3ying4",
	"首都": "shou3du1", "成都": "cheng2du1",
	"着急": "zhao2ji2",
	"角色": "jue2se4",
	"成为": "cheng2wei2", "作为": "zuo4wei2", "认为": "ren4wei2", "以为": "yi3wei2", "行为": "xing2wei2", "称为": "cheng1wei2",
	"爱好": "ai4hao4",
	"要求": "yao1qiu2",
	"会计": "kuai4ji4",
	"尽快": "jin3kuai4", "尽量": "jin3liang4", "尽早": "jin3zao3",
	"头发": "tou2fa4",
	"厦门": "xia4men2",
	"勉强": "mian3qiang3",
	"没收": "mo4shou1",
}

// maxPolyphone is the longest key of polyphones, in runes.
const maxPolyphone = 3

// numerals are the characters around which 一 keeps its own tone (第一,
// 十一, 一二三).
const numerals = "零一二三四五六七八九十百千万亿两幺第初"

var toneArgs = func() pinyin.Args {
	a := pinyin.NewArgs()
	a.Style = pinyin.Tone3
	return a
}()

// mandarinReadings prepares hanzi for the cmn-latn-pinyin voice: the words
// in polyphones become pinyin, and 不 and 一 get the tone they take before
// the next syllable, which espeak-ng does not do (不是 bú shì, 一个 yí gè, 一般
// yì bān). The next syllable's tone comes from go-pinyin's reading, or from
// polyphones when a listed word follows.
func mandarinReadings(s string) string {
	if !hasHan(s) {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); {
		if py, n := polyphoneAt(rs, i); n > 0 {
			b.WriteString(py)
			i += n
			continue
		}
		r := rs[i]
		switch {
		case r == '不' && i+1 < len(rs) && rs[i+1] == '了' && (i+2 == len(rs) || !isHan(rs[i+2])):
			// "…不了。" at the end of a clause is the potential liǎo: 回答不了.
			b.WriteString("bu4liao3")
			i += 2
			continue
		case r == '不' && nextTone(rs, i+1) == 4:
			b.WriteString("bu2")
		case r == '一' && (i == 0 || !strings.ContainsRune(numerals, rs[i-1])) &&
			i+1 < len(rs) && isHan(rs[i+1]) && !strings.ContainsRune(numerals, rs[i+1]):
			switch t := nextTone(rs, i+1); {
			case t == 4 || t == 5:
				b.WriteString("yi2")
			case t >= 1:
				b.WriteString("yi4")
			default:
				b.WriteRune(r)
			}
		default:
			b.WriteRune(r)
		}
		i++
	}
	return b.String()
}

func polyphoneAt(rs []rune, i int) (string, int) {
	for n := min(maxPolyphone, len(rs)-i); n >= 2; n-- {
		if py, ok := polyphones[string(rs[i:i+n])]; ok {
			return py, n
		}
	}
	return "", 0
}

// nextTone is the tone (1–4, 5 for neutral) of the syllable at rs[j], or 0
// when there is no hanzi there.
func nextTone(rs []rune, j int) int {
	if j >= len(rs) || !isHan(rs[j]) {
		return 0
	}
	py, n := polyphoneAt(rs, j)
	if n == 0 {
		p := pinyin.LazyPinyin(string(rs[j]), toneArgs)
		if len(p) == 0 {
			return 0
		}
		py = p[0]
	}
	for _, r := range py {
		if r >= '1' && r <= '5' {
			return int(r - '0')
		}
	}
	return 5
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

func hasHan(s string) bool {
	for _, r := range s {
		if isHan(r) {
			return true
		}
	}
	return false
}
