// Package textnorm normalises what callers say and what hotline staff write
// so that the dialog engine can match them: Chinese and English, typed or
// from a speech recogniser (no punctuation, homophone errors).
//
// # Pipeline
//
// Fold makes the canonical string; keywords and utterances both go through
// it, so consistency matters more than beauty. In order:
//
//  1. invalid UTF-8 → U+FFFD; Unicode NFKC (full-width → ASCII, ① → 1);
//  2. lower case; ’ → '; other scripts' decimal digits → ASCII;
//  3. Traditional → Simplified Chinese with opencc "t2s" (skipped unless the
//     text holds a character t2s can change — a set built once from opencc's
//     own dictionaries);
//  4. English contractions expanded (don't/dont → do not, I'm → i am) and
//     English number words turned into digits;
//  5. thousands separators dropped (1,000 → 1000; again after step 6);
//  6. Chinese numerals turned into digits;
//  7. white space collapsed (a run holding a line break becomes "\n", any
//     other run one space) and trimmed. Punctuation is kept.
//
// Fold is idempotent. Units then cuts a folded string into Han characters,
// words (Latin words stemmed with Snowball English), digit runs and clause
// breaks, each with its byte span. Pinyin and Fuzzy support matching that
// tolerates homophones; Digits collects a spoken or typed account number.
//
// # Chinese numbers
//
// A run is a maximal sequence of Chinese numerals (零〇一二三四五六七八九两幺,
// 十百千万亿, formal 壹贰叁肆伍陆柒捌玖拾佰仟) and ASCII digits.
//
//   - With 十百千万亿 it is read positionally: 二十一 → 21, 一百零五 → 105,
//     一百五 → 150 (a bare digit after 百/千/万/亿 is the next lower place),
//     三万五千 → 35000, 2万5千 → 25000. Only 十 may start a run without a
//     coefficient: 万一, 千万, 百分之 stay words. Runs that are not one
//     well-formed number stay as written (三四十 "thirty or forty").
//   - Without, two or more numerals are read digit by digit: 幺三八 → 138,
//     123四五六 → 123456, 12三 → 123.
//   - A lone digit numeral converts only as a quantity: before a measure word
//     or unit (三天 → 3天, 两个 → 2个; the list is cnMeasures in chinese.go),
//     after 第 (第一 → 第1), or after
//     "3点"/"3块"/"1米" (3点五 → 3点5). Otherwise it stays (一下, 一些, 唯一,
//     有一点). 一点 is a time only after a time word or before 钟/半/a number
//     (下午一点 → 下午1点, 一点半 → 1点半); otherwise it is "a little".
//   - Approximations stay: two consecutive values or 三五/三两 before a
//     measure word (两三天, 七八个, 三五天), anything next to 几 (十几个,
//     几十), and runs inside a few fixed words (十分 "very" — but 十分钟 and
//     3点十分 are minutes — 乱七八糟, 一五一十, …).
//   - Weekdays stay Chinese: 周一, 星期三, 礼拜五, 周一三五, even 周一9点;
//     they are names, not quantities. (每周两次 converts: 两 is no weekday.)
//   - A run with a unit next to a decimal point stays (1.5万), as we do not
//     compute fractions.
//
// # English numbers
//
// zero…nineteen, twenty…ninety, hundred, thousand, million, billion, "a
// hundred", "and" inside a number, hyphens (twenty-one → 21). Consecutive
// numbers are concatenated, which covers digits said one by one ("five five
// five one two three four" → 5551234) and years ("twenty twenty six" →
// 2026). "oh" is 0 only between number words (five oh five → 505);
// double/triple repeat a digit (double five seven → 557). A lone "one" is 1.
// Ordinals and hyphenated words with a non-number part (twenty-first,
// one-time) stay words.
package textnorm
