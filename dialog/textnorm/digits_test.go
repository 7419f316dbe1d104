package textnorm

import "testing"

func TestDigits(t *testing.T) {
	cases := []struct{ in, want string }{
		// The brief's examples.
		{"幺三八零零一三八零零零", "13800138000"},
		{"one two three four five six", "123456"},
		{"my number is 12 34 56", "123456"},
		{"一二三四五六七八", "12345678"},
		{"double five seven", "557"},
		{"订单号是 123 四五六", "123456"},
		// More.
		{"", ""},
		{"   ", ""},
		{"no digits here", ""},
		{"没有数字", ""},
		{"我想查一下", ""},
		{"星期一", ""},
		{"我想查一下我的订单到哪里了,订单号是一二三四五六", "123456"},
		{"hi I'd like to check the status of my order number one two three four five six please", "123456"},
		{"１３８-００１３-８０００", "13800138000"},
		{"138 0013 8000", "13800138000"},
		{"一 二 三", "123"},
		{"号码是一 二 三 四", "1234"},
		{"five oh five", "505"},
		{"oh five five", "055"},
		{"o 1 2", "012"},
		{"zero zero seven", "007"},
		{"我們的訂單號是壹貳叁", "123"},
		{"1.5", "15"},
		// Quantities are not digits of a number.
		{"我等了三天了", ""},
		{"我等了三天了,订单号是123", "123"},
		{"三五天", ""},
		{"3 天", ""},
		{"第一个订单", ""},
		{"I waited three days for order 555", "555"},
		{"下午3点5", ""},
		{"1.5万", ""},
		// Invalid UTF-8 does not break it.
		{"1\xff2", "12"},
	}
	for _, c := range cases {
		if got := Digits(c.in); got != c.want {
			t.Errorf("Digits(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDigitsHomophones(t *testing.T) {
	for in, want := range map[string]string{
		"for five six seven eight nine one two":  "45678912",
		"four five six seven eight nine won two": "45678912",
		"one two three ate":                      "1238",
		"one to three":                           "123",
		"i want to pay for one item":             "1",
		"it's for 1234":                          "1234",
	} {
		if got := Digits(in); got != want {
			t.Errorf("Digits(%q) = %q, want %q", in, got, want)
		}
	}
}
