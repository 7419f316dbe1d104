package privacy

import "time"

// Checks on a window of digit groups. d holds the window's digits (an ID's
// check character may be 'X'); gs its groups, for the way it was written.

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChar returns the ISO 7064 MOD 11-2 check character of the first 17
// digits of a Chinese resident identity number (GB 11643).
func idCheckChar(d []byte) byte {
	sum := 0
	for i, w := range idWeights {
		sum += int(d[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

// validID reports whether d is an 18-character resident identity number: a
// non-zero region code, a real birth date from 1900 on (and not after now(),
// when now is set) and the right check character.
func validID(d []byte, now func() time.Time) bool {
	if len(d) != 18 || d[0] == '0' {
		return false
	}
	for _, c := range d[:17] {
		if !isDigit(c) {
			return false
		}
	}
	check := d[17]
	if check == 'x' {
		check = 'X'
	}
	if idCheckChar(d) != check {
		return false
	}
	y, m, day := atoi(d[6:10]), atoi(d[10:12]), atoi(d[12:14])
	if y < 1900 || m < 1 || m > 12 || day < 1 || day > daysIn(y, m) {
		return false
	}
	if now != nil {
		ny, nm, nd := now().Date()
		if y > ny || y == ny && (m > int(nm) || m == int(nm) && day > nd) {
			return false
		}
	}
	return true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func atoi(d []byte) int {
	v := 0
	for _, c := range d {
		v = v*10 + int(c-'0')
	}
	return v
}

// luhn reports whether the digits pass the Luhn check.
func luhn(d []byte) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// validCard reports whether d is 13 to 19 digits with the issuer prefix of a
// payment card network and a correct Luhn check digit.
func validCard(d []byte) bool {
	if len(d) < 13 || len(d) > 19 {
		return false
	}
	for _, c := range d {
		if !isDigit(c) {
			return false
		}
	}
	return cardIIN(d) && luhn(d)
}

// cardIIN reports whether d starts like a payment card: 3 (American Express,
// JCB, Diners), 4 (Visa), 5 (Mastercard, Maestro), 6 (UnionPay 62, Discover,
// Maestro), 2200-2204 (Mir), 2221-2720 (Mastercard), 81-82 (UnionPay, RuPay).
// Other first digits (0, 1, 7, 9, and most of 2 and 8) are not issued to
// payment cards, which keeps timestamps and date-based order numbers out.
func cardIIN(d []byte) bool {
	switch d[0] {
	case '3', '4', '5', '6':
		return true
	case '2':
		v := atoi(d[:4])
		return v >= 2200 && v <= 2204 || v >= 2221 && v <= 2720
	case '8':
		return d[1] == '1' || d[1] == '2'
	}
	return false
}

// cardShape reports whether typed groups are written like a card number:
// together, in fours (the last group shorter), 4-6-5 or 4-6-4 (American
// Express, Diners) or 6 and the rest (some UnionPay cards).
func cardShape(gs []dtok) bool {
	for k := 1; k < len(gs); k++ {
		if gs[k].sep != sepSpace && gs[k].sep != sepHyphen {
			return false
		}
	}
	switch len(gs) {
	case 1:
		return true
	case 2:
		return gs[0].n == 6
	case 3:
		if gs[0].n == 4 && gs[1].n == 6 && (gs[2].n == 5 || gs[2].n == 4) {
			return true
		}
	}
	for k := 0; k < len(gs)-1; k++ {
		if gs[k].n != 4 {
			return false
		}
	}
	return gs[len(gs)-1].n <= 4
}

func isMobile(d []byte) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9'
}

// isNANP reports whether d is a 10-digit North American number: area code
// and exchange both starting 2-9. Toll-free area codes and China's 400/800
// service numbers are left alone: they belong to companies, not callers.
func isNANP(d []byte) bool {
	if len(d) != 10 || d[0] < '2' || d[3] < '2' {
		return false
	}
	if d[0] == '8' && d[1] == d[2] {
		return false // 800, 822, 833, ... 888 (and 811, 899, which are not area codes)
	}
	return !(d[0] == '4' && d[1] == '0' && d[2] == '0')
}

// validPhone reports whether the window is a phone number, and whether the
// evidence is weak: a national number recognised only by its trunk 0 and
// length, or a North American one only by its shape, as opposed to a + or 00
// prefix or a Chinese mobile prefix.
func validPhone(gs []dtok, d []byte, strict bool) (ok, weak bool) {
	n := len(d)
	if gs[0].plus {
		// E.164: + and 8-15 digits, any grouping; "+44 (0)20" drops the (0).
		var e [maxDigits]byte
		m := 0
		for k := range gs {
			if k > 0 && gs[k].paren && gs[k].n == 1 && gs[k].d[0] == '0' {
				continue
			}
			m += copy(e[m:], gs[k].d[:gs[k].n])
		}
		return m >= 8 && m <= 15 && ccLen(e[:m]) > 0, false
	}
	for k := range gs {
		if gs[k].paren && k > 1 {
			return false, false
		}
	}
	// Chinese mobile: 13800138000, 138 0013 8000, 138-0013-8000.
	if n == 11 && isMobile(d) &&
		(!strict || minGroup(gs) >= 3 && len(gs) <= 3 && noParen(gs)) {
		return true, false
	}
	// 86 138 0013 8000, 8613800138000.
	if n == 13 && d[0] == '8' && d[1] == '6' && isMobile(d[2:]) &&
		(!strict || noParen(gs) && (len(gs) == 1 || gs[0].n == 2 && minGroup(gs[1:]) >= 3)) {
		return true, false
	}
	// 0086 138 0013 8000, 00 44 20 7946 0958, 008613800138000.
	if n >= 10 && n <= 17 && d[0] == '0' && d[1] == '0' {
		cc := ccLen(d[2:])
		switch {
		case cc == 0:
		case !strict:
			return true, false
		case len(gs) == 1:
			if n == 15 && d[2] == '8' && d[3] == '6' && isMobile(d[4:]) && !gs[0].paren {
				return true, false
			}
		case (gs[0].n == 2 || gs[0].n == 2+cc) && noParen(gs):
			return true, false
		}
	}
	// 415-555-0132, 415.555.0132, (415) 555-0132; never ten bare digits.
	if n == 10 && isNANP(d) && (!strict || nanpShape(gs)) {
		return true, true
	}
	// 1-415-555-0132, 1 (415) 555-0132.
	if n == 11 && d[0] == '1' && isNANP(d[1:]) &&
		(!strict || gs[0].n == 1 && !gs[0].paren && nanpShape(gs[1:])) {
		return true, true
	}
	// National numbers with a trunk 0: Chinese landlines (010-12345678,
	// (0755) 1234 5678, 02161234567) and UK numbers (07700 900123,
	// 020 7946 0958).
	if n >= 10 && n <= 12 && d[0] == '0' && d[1] != '0' {
		switch {
		case !strict:
			return true, true
		case len(gs) == 1:
			return !gs[0].paren, true
		default:
			return gs[0].n >= 3 && gs[0].n <= 5 && len(gs) <= 4 && minGroup(gs[1:]) >= 3 && noParen(gs[1:]), true
		}
	}
	return false, false
}

// nanpShape: (415) 555-0132, (415)5550132, 415-555-0132, 415.555.0132.
func nanpShape(gs []dtok) bool {
	switch len(gs) {
	case 2:
		return gs[0].paren && gs[0].n == 3 && gs[1].n == 7 && !gs[1].paren
	case 3:
		return gs[0].n == 3 && gs[1].n == 3 && gs[2].n == 4 && noParen(gs[1:])
	}
	return false
}

func minGroup(gs []dtok) int {
	m := maxDigits + 1
	for k := range gs {
		m = min(m, gs[k].n)
	}
	return m
}

func noParen(gs []dtok) bool {
	for k := range gs {
		if gs[k].paren {
			return false
		}
	}
	return true
}

// ccLen returns the length of the ITU country code that d starts with, or 0
// when no country code starts that way (0, 28, 83, 89).
func ccLen(d []byte) int {
	if len(d) < 3 {
		return 0
	}
	switch d[0] {
	case '0':
		return 0
	case '1', '7':
		return 1
	}
	switch cc := atoi(d[:2]); cc {
	case 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49,
		51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66,
		81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98:
		return 2
	case 28, 83, 89:
		return 0
	}
	return 3
}
