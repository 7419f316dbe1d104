// Package privacy keeps callers' personal data out of what hotline stores:
// it redacts what a recogniser (or a keypad) wrote down before it goes into
// transcripts, the unanswered-question list and logs, and it decides how a
// caller's own number is kept.
//
// # Redaction
//
// A [Redactor] finds personal data in text and replaces each piece with a
// token naming its kind: [phone], [id], [card], [email]. Redaction is on by
// default in hotline, so the detectors aim at catching real personal data
// with few false alarms: an order number, an amount of money, a date or a
// verification code must come through untouched.
//
// What is detected:
//
//   - Chinese resident identity numbers: 17 digits and a check character
//     (0-9 or X), with the ISO 7064 MOD 11-2 checksum right, a non-zero region
//     code, and a real birth date from 1900 on (not after today, when the
//     Redactor is given a clock with [WithNow]).
//   - Payment card numbers: 13 to 19 digits with a correct Luhn digit and the
//     prefix of a card network (first digit 3, 4, 5 or 6, or 2200-2204,
//     2221-2720, 81-82), written together or grouped like cards are
//     (4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4, 6-13) with spaces or hyphens.
//   - Phone numbers: Chinese mobiles (1[3-9] and 9 digits, with or without
//     +86, 0086 or 86); Chinese landlines (0, a 2-3 digit area code and 7-8
//     digits: 010-12345678, (0755) 1234 5678); any number after + (8-15
//     digits starting with a country code, "+44 (0)20 …" included) or after
//     00 and a country code; UK numbers (07700 900123, 020 7946 0958); North
//     American numbers written as numbers are ((415) 555-0132, 415-555-0132,
//     415.555.0132, optionally after 1 or +1).
//   - E-mail addresses, written (local@domain.tld) or as an English
//     recogniser spells them: "john dot smith at example dot com" when the
//     "at <word> dot <tld>" shape is there with a plausible top-level domain
//     (com, net, org, edu, gov, or any two letters such as co, uk, cn, io).
//
// Digits are found however they were written: ASCII or full-width digits,
// Chinese digit characters read one by one (零〇一二三四五六七八九, 幺 for 1,
// 两 for 2), English digit words ("zero", "oh" and "o" inside a run of digits,
// "one" … "nine", "double three", "triple 0", "plus" before digits), and
// mixtures ("one three eight 0013 8000"), separated by spaces, a hyphen, a
// dot between typed digits or a comma between spoken ones.
//
// How typed digits are grouped counts as evidence. A North American number
// must be written like one (415-555-0132, not 4155550132), a card must be
// grouped like a card, and a number recognised only by its shape (a
// national number starting with 0, a North American number) is not carved
// out of a longer typed number written the same way ("9222 0212 3456 7890
// 128" is a mistyped card, not the phone number 0212 3456 7890). Spoken
// digits carry no reliable grouping, so spoken numbers are judged on their
// digits alone.
//
// When findings overlap, an ID beats a card, a card beats a phone number and
// a phone number beats an e-mail address ("13800138000@qq.com" becomes
// "[phone]@qq.com"); findings never overlap. The text between findings is
// kept byte for byte, and redacting redacted text changes nothing.
//
// What is NOT detected, knowingly:
//
//   - Names, postal addresses, bank account numbers that are not card
//     numbers (IBANs), passport numbers, licence plates, the old 15-digit
//     Chinese ID numbers, and any number that fits none of the shapes above.
//   - Ten bare digits (4155550132): too many order and account numbers look
//     the same. Written as a North American number, or spoken, they are a
//     phone number.
//   - Numbers spoken as quantities ("一百三十八", "thirteen eight hundred"):
//     only digit-by-digit readings are numbers here.
//   - Digits inside alphanumeric codes (SO13800138000, a UUID segment),
//     which are taken to be references, not personal data.
//   - A phone number typed right after other typed digits in the same style
//     ("room 12 020 7946 0958"); and a spoken number with a stray extra digit
//     in the same breath ("one three eight … zero zero zero two").
//   - Toll-free and service numbers (800-, 888-…, China's 400- and 800-
//     numbers, unless written with +): they belong to companies.
//   - E-mail addresses spoken in Chinese ("艾特", "点") or with a top-level
//     domain outside the list above. A spoken local part is the words joined
//     by "dot", "underscore", "dash" or "hyphen" before "at", so in "john one
//     two at gmail dot com" only "one two at gmail dot com" is taken (the
//     result is "john [email]"); a one-word local part that is a common
//     English word ("be at home dot it") is not taken for an address.
//
// And there are false alarms it accepts: an order number that happens to be
// 11 digits starting 13-19, 10-12 digits starting with 0, or a Luhn-valid
// 13-19 digit number starting 3-6 (a courier tracking number, a 64-bit log
// ID) is redacted.
//
// # Why tokens, not partial masking
//
// Transcripts replace a finding with [phone] rather than masking part of it
// (138****8000) because a partly masked number is still personal data: with
// the caller's city or name, the remaining digits narrow it down to a few
// people, and a recogniser's errors mean the "masked" digits are not reliably
// the ones masked. A token also keeps the transcript readable for staff, who
// need to know that the caller gave a phone number at that point, not which
// one, and it cannot be mistaken for a real value by anything downstream.
// Masking is kept for the one place it earns its keep: the caller's own
// number in the call record, where staff recognise a repeat caller by the
// ends of it (see NumberPolicy).
//
// # Caller numbers
//
// A [NumberPolicy] (hotline's caller_numbers: full | masked | hash) decides
// what is stored for the calling number: the number as the PBX sent it, a
// masked number (138****5678), or a keyed hash ("h:" and 16 hex digits of
// HMAC-SHA256). [NumberPolicy.Hash] always gives the keyed hash, whatever the
// mode, so "forget this caller" can find a caller's rows even when their
// number was stored masked. Numbers are normalised first ([NormalizeNumber]):
// the user part of a SIP or tel URI, separators dropped, 00 made +, so the
// same caller hashes the same however the PBX wrote the number.
//
// # Logs
//
// [NewLogHandler] wraps a log/slog handler and redacts every message and
// string attribute (inside groups too, and errors and Stringers), leaving
// keys alone. A log line with nothing to redact costs a scan and no
// allocation.
package privacy
