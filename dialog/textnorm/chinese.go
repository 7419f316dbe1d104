package textnorm

import (
	"strconv"
	"unicode/utf8"
)

// Chinese numerals. Traditional forms (萬 億 兩 貳 參 陸…) need no entry: t2s
// runs first.
const (
	cnNone  = iota
	cnDigit // 零〇一二三四五六七八九两幺 and the formal 壹贰叁肆伍陆柒捌玖
	cnUnit  // 十百千万亿 and the formal 拾佰仟
)

func cnNumeral(r rune) (kind int, val uint64) {
	switch r {
	case '零', '〇':
		return cnDigit, 0
	case '一', '幺', '壹':
		return cnDigit, 1
	case '二', '两', '贰':
		return cnDigit, 2
	case '三', '叁':
		return cnDigit, 3
	case '四', '肆':
		return cnDigit, 4
	case '五', '伍':
		return cnDigit, 5
	case '六', '陆':
		return cnDigit, 6
	case '七', '柒':
		return cnDigit, 7
	case '八', '捌':
		return cnDigit, 8
	case '九', '玖':
		return cnDigit, 9
	case '十', '拾':
		return cnUnit, 10
	case '百', '佰':
		return cnUnit, 100
	case '千', '仟':
		return cnUnit, 1000
	case '万':
		return cnUnit, 10000
	case '亿':
		return cnUnit, 100000000
	}
	return cnNone, 0
}

func isASCIIDigit(r rune) bool { return '0' <= r && r <= '9' }

// cnMeasures are the measure words and units after which a single numeral is
// a quantity ("三天", "两个", "五号"). Words whose first character is already
// listed need no entry of their own (分钟 via 分, 个月 via 个); 千米/千克 start
// with a numeral and are read as part of the number.
var cnMeasures = map[rune]bool{
	'天': true, '个': true, '号': true, '点': true, '月': true, '日': true, '年': true,
	'元': true, '块': true, '分': true, '秒': true, '次': true, '位': true, '件': true,
	'周': true, '楼': true, '层': true, '岁': true, '张': true, '台': true, '份': true,
	'单': true, '倍': true, '斤': true, '米': true, '人': true, '名': true, '种': true,
	'条': true, '本': true, '辆': true, '间': true, '套': true, '箱': true, '瓶': true,
	'盒': true, '包': true, '袋': true, '双': true, '页': true, '遍': true, '趟': true,
	'克': true, '吨': true, '升': true, '毛': true, '角': true, '折': true, '期': true,
	'级': true, '届': true, '批': true, '笔': true, '项': true, '段': true, '集': true,
	'首': true, '句': true, '封': true, '座': true, '栋': true, '室': true, '站': true,
	'寸': true, '尺': true, '刻': true, '%': true,
}

var cnMultiMeasures = [...]string{
	"小时", "钟头", "星期", "礼拜", "公斤", "公里", "厘米", "毫米", "英里", "平米", "平方", "立方", "毫升",
}

// cnProtected are words that contain numerals but are not numbers. A numeral
// run lying inside one stays as written. (万一, 千万, 百分之… need no entry:
// a run may not start with a bare 百/千/万/亿.)
var cnProtected = [...]string{
	"十分", "十足", "十全十美", "十之八九", "十万火急", "乱七八糟", "七七八八", "一五一十",
	"三三两两", "三番五次", "三天两头", "九九归一", "九牛一毛", "一块儿", "一一",
	"十字", "零件", "三角", "一条龙", "一本正经",
}

// cnTimeWords before 一点 make it a time ("下午一点") rather than "a little".
var cnTimeWords = [...]string{
	"上午", "下午", "中午", "晚上", "凌晨", "早上", "早晨", "夜里", "半夜", "傍晚",
	"今天", "明天", "昨天", "后天", "前天", "每天",
}

// cnWeekdayPrefixes: a numeral after these names a weekday (周一, 星期三),
// which stays Chinese.
var cnWeekdayPrefixes = [...]string{"星期", "礼拜", "周"}

func hasRunePrefix(rs []rune, w string) bool {
	i := 0
	for _, r := range w {
		if i >= len(rs) || rs[i] != r {
			return false
		}
		i++
	}
	return true
}

func hasRuneSuffix(rs []rune, w string) bool {
	n := utf8.RuneCountInString(w)
	if n > len(rs) {
		return false
	}
	return hasRunePrefix(rs[len(rs)-n:], w)
}

// measureAt reports whether a measure word starts at rs[i].
func measureAt(rs []rune, i int) bool {
	if i >= len(rs) {
		return false
	}
	if cnMeasures[rs[i]] {
		return true
	}
	for _, w := range cnMultiMeasures {
		if hasRunePrefix(rs[i:], w) {
			return true
		}
	}
	return false
}

// hasChineseNumeral is the fast path of foldChineseNumbers.
func hasChineseNumeral(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < 0xe3 {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if k, _ := cnNumeral(r); k != cnNone {
			return true
		}
		i += n
	}
	return false
}

// foldChineseNumbers turns Chinese numerals into ASCII digits where they are
// numbers. See the package documentation for the rules.
//
// Decisions look at the output already written on the left and at the input
// on the right, and treat a Chinese numeral and an ASCII digit alike on the
// right, so that folding the result again changes nothing.
func foldChineseNumbers(s string) string {
	if !hasChineseNumeral(s) {
		return s
	}
	rs := []rune(s)
	out := make([]rune, 0, len(rs)+8)
	changed := false
	for i := 0; i < len(rs); {
		r := rs[i]
		k, _ := cnNumeral(r)
		if k == cnNone && !isASCIIDigit(r) {
			out = append(out, r)
			i++
			continue
		}
		if k == cnDigit && afterWeekdayPrefix(out) {
			// 周一, 星期三, 周一三五: weekdays are names, not quantities,
			// and stay Chinese even next to a time (周一9点).
			j := i
			for j < len(rs) && isWeekdayNumeral(rs[j]) {
				j++
			}
			if j > i {
				out = append(out, rs[i:j]...)
				i = j
				continue
			}
		}
		j := i + 1
		hasCN := k != cnNone
		for j < len(rs) {
			k2, _ := cnNumeral(rs[j])
			if k2 == cnNone && !isASCIIDigit(rs[j]) {
				break
			}
			hasCN = hasCN || k2 != cnNone
			j++
		}
		if hasCN {
			if conv, ok := convertRun(rs, i, j, out); ok {
				out = append(out, conv...)
				changed = true
				i = j
				continue
			}
		}
		out = append(out, rs[i:j]...)
		i = j
	}
	if !changed {
		return s
	}
	return string(out)
}

// convertRun decides about the numeral run rs[a:b] (Chinese numerals and
// ASCII digits, at least one Chinese) and returns its digits, or ok false to
// keep it as written. out is the output so far.
func convertRun(rs []rune, a, b int, out []rune) (digits []rune, ok bool) {
	run := rs[a:b]
	var prev, next rune
	if len(out) > 0 {
		prev = out[len(out)-1]
	}
	if b < len(rs) {
		next = rs[b]
	}
	// 几 makes a neighbouring numeral an approximation: 十几个, 几十, 二十几.
	if prev == '几' || next == '几' {
		return nil, false
	}
	if protectedRun(rs, a, b, out) {
		return nil, false
	}
	hasUnit, hasASCII, nCN := false, false, 0
	for _, r := range run {
		switch k, _ := cnNumeral(r); k {
		case cnUnit:
			hasUnit = true
			nCN++
		case cnDigit:
			nCN++
		default:
			hasASCII = true
		}
	}
	ordinal := prev == '第'

	if hasUnit {
		// Only 十 starts a number without a coefficient (十二); a bare
		// 百/千/万/亿 starts words (百分之, 千万, 万一), and 拾 is also "to
		// pick up".
		if k, v := cnNumeral(run[0]); k == cnUnit && (v != 10 || run[0] == '拾') {
			return nil, false
		}
		// "1.5万": a decimal fraction we do not compute; keep it readable.
		if len(out) >= 2 && prev == '.' && isASCIIDigit(out[len(out)-2]) {
			return nil, false
		}
		if next == '.' && b+1 < len(rs) && isASCIIDigit(rs[b+1]) {
			return nil, false
		}
		v, ok := parsePositional(run)
		if !ok {
			return nil, false
		}
		return []rune(strconv.FormatUint(v, 10)), true
	}

	if !hasASCII && nCN == 1 && !ordinal && !singleIsQuantity(rs, a, out) {
		return nil, false
	}
	if !hasASCII && nCN == 2 && !ordinal && isApproximation(run[0], run[1]) && measureAt(rs, b) {
		return nil, false // 三五天, 两三个: "about", not 35 or 23
	}
	digits = make([]rune, len(run))
	for i, r := range run {
		if _, v := cnNumeral(r); !isASCIIDigit(r) {
			r = '0' + rune(v)
		}
		digits[i] = r
	}
	return digits, true
}

// singleIsQuantity decides about a lone Chinese digit numeral at rs[i]: it
// converts only when it is clearly a quantity.
func singleIsQuantity(rs []rune, i int, out []rune) bool {
	// 3点五 / 3块五 / 1米八: the second half of a time, price or height.
	if n := len(out); n >= 2 && isASCIIDigit(out[n-2]) {
		switch out[n-1] {
		case '点', '块', '毛', '米':
			return true
		}
	}
	if i+1 >= len(rs) {
		return false
	}
	// 一点 is "a little" (有一点, 快一点) unless it is clearly a time:
	// 下午一点, 一点钟, 一点半, 一点十分.
	if (rs[i] == '一' || rs[i] == '幺') && rs[i+1] == '点' {
		for _, w := range cnTimeWords {
			if hasRuneSuffix(out, w) {
				return true
			}
		}
		if i+2 < len(rs) {
			after := rs[i+2]
			if k, _ := cnNumeral(after); k != cnNone || isASCIIDigit(after) || after == '钟' || after == '半' {
				return true
			}
		}
		return false
	}
	return measureAt(rs, i+1)
}

// isApproximation reports two numerals that together mean "about": adjacent
// values (两三, 七八) and the idiomatic 三五 and 三两.
func isApproximation(r1, r2 rune) bool {
	_, v1 := cnNumeral(r1)
	_, v2 := cnNumeral(r2)
	if v2 == v1+1 || v1 == 3 && v2 == 5 {
		return true
	}
	return v1 == 3 && r2 == '两'
}

// afterWeekdayPrefix reports that out ends with 星期, 礼拜 or 周.
func afterWeekdayPrefix(out []rune) bool {
	for _, w := range cnWeekdayPrefixes {
		if hasRuneSuffix(out, w) {
			return true
		}
	}
	return false
}

// isWeekdayNumeral reports the numerals that name a day after 周/星期: 一 to
// 七. 两 never does (每周两次 is "twice a week").
func isWeekdayNumeral(r rune) bool {
	k, v := cnNumeral(r)
	return k == cnDigit && r != '两' && r != '幺' && v >= 1 && v <= 7
}

var cnProtectedRunes = func() [][]rune {
	w := make([][]rune, len(cnProtected))
	for i, p := range cnProtected {
		w[i] = []rune(p)
	}
	return w
}()

// protectedRun reports whether rs[a:b] lies inside a word of cnProtected.
func protectedRun(rs []rune, a, b int, out []rune) bool {
	first := rs[a]
	for _, w := range cnProtectedRunes {
		n := len(w)
		if n < b-a {
			continue
		}
		for off, r := range w {
			// The run's first rune sits at offset off of the word.
			p := a - off
			if r != first || p < 0 || p+n < b || p+n > len(rs) || !equalRunes(rs[p:p+n], w) {
				continue
			}
			if string(w) == "十分" {
				// 十分钟 and 三点十分 are ten minutes, not "very".
				if p+2 < len(rs) && rs[p+2] == '钟' {
					continue
				}
				if k := len(out); k >= 2 && out[k-1] == '点' && isASCIIDigit(out[k-2]) {
					continue
				}
			}
			return true
		}
	}
	return false
}

func equalRunes(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// maxValue bounds the numbers parsePositional produces; anything larger is
// not a quantity a caller says, and stays as written.
const maxValue = 1e16

// parsePositional reads a run containing 十百千万亿 positionally:
// 二十一→21, 一百零五→105, 三万五千→35000, 一百五→150 (a trailing bare digit
// after 百/千/万/亿 means the next lower place), 2万5千→25000 (ASCII digits
// act as coefficients). ok is false for runs that are not one well-formed
// number (三四十 "thirty or forty", 十一二 "eleven or twelve").
func parsePositional(run []rune) (uint64, bool) {
	var (
		total, section uint64 // section: the part below the current 万
		pending        uint64
		hasPending     bool
		pendingASCII   int    // digits in pending when it came from ASCII
		lastSmall      uint64 // last of 十百千 in this section, 0 if none
		lastUnit       uint64 // last unit of any kind
		zero           bool   // 零 seen since the last unit
		sawWan, sawYi  bool
	)
	for i := 0; i < len(run); {
		r := run[i]
		if isASCIIDigit(r) {
			j := i
			for j < len(run) && isASCIIDigit(run[j]) {
				j++
			}
			if hasPending || j-i > 12 {
				return 0, false
			}
			v, _ := strconv.ParseUint(string(run[i:j]), 10, 64)
			if v == 0 {
				return 0, false
			}
			pending, hasPending, pendingASCII = v, true, j-i
			i = j
			continue
		}
		i++
		k, v := cnNumeral(r)
		if k == cnDigit {
			if hasPending {
				return 0, false // two digits in a row: 三四十, 十一二
			}
			if v == 0 {
				zero = true
				continue
			}
			pending, hasPending, pendingASCII = v, true, 0
			continue
		}
		switch v {
		case 10, 100, 1000:
			coef := pending
			if !hasPending {
				// 十 alone means 一十: at the start (十二) or after 零
				// (一千零十).
				if v != 10 || (lastUnit != 0 && !zero) {
					return 0, false
				}
				coef = 1
			} else if pendingASCII > 1 {
				return 0, false // "12百" is not a way to write a number
			}
			if lastSmall != 0 && v >= lastSmall {
				return 0, false
			}
			section += coef * v
			lastSmall, lastUnit = v, v
		case 10000:
			if hasPending {
				section += pending
			}
			if section == 0 || sawWan || section >= maxValue/10000 {
				return 0, false
			}
			total += section * 10000
			section, lastSmall, lastUnit, sawWan = 0, 0, v, true
		case 100000000:
			if hasPending {
				section += pending
			}
			n := total + section
			if n == 0 || sawYi || n >= maxValue/100000000 {
				return 0, false
			}
			total = n * 100000000
			section, lastSmall, lastUnit, sawWan, sawYi = 0, 0, v, false, true
		}
		hasPending, zero = false, false
	}
	if hasPending {
		switch {
		case zero || lastUnit == 10:
			section += pending // 一百零五, 二十一
		case pending < 10 && pendingASCII <= 1:
			section += pending * (lastUnit / 10) // 一百五 = 150, 三万五 = 35000
		default:
			return 0, false // 三万12
		}
	} else if zero {
		return 0, false // 一百零
	}
	n := total + section
	if n >= maxValue {
		return 0, false
	}
	return n, true
}
