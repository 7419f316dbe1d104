package privacy_test

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/hotline-dev/hotline/privacy"
)

func ExampleRedactor_Redact() {
	r := privacy.New()
	fmt.Println(r.Redact("我的手机号是幺三八零零一三八零零零，订单号20261127001"))
	fmt.Println(r.Redact("call me on oh seven seven double oh nine double oh one two three, or john dot smith at example dot com"))
	fmt.Println(r.Redact("card 4111 1111 1111 1111, total 1,250.00"))
	// Output:
	// 我的手机号是[phone]，订单号20261127001
	// call me on [phone], or [email]
	// card [card], total 1,250.00
}

func ExampleNumberPolicy_Keep() {
	masked, _ := privacy.ParseNumberPolicy("masked", nil)
	fmt.Println(masked.Keep("sip:13800005678@pbx.example;user=phone"))
	hashed, _ := privacy.ParseNumberPolicy("hash", []byte("from the config file"))
	fmt.Println(hashed.Keep("tel:+86-138-0013-8000") == hashed.Keep("0086 138 0013 8000"))
	// Output:
	// 138****5678
	// true
}

func ExampleNewLogHandler() {
	opts := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	log := slog.New(privacy.NewLogHandler(slog.NewTextHandler(os.Stdout, opts), nil))
	log.Info("unanswered", "text", "my number is 13800138000", "call", "c-42")
	// Output:
	// level=INFO msg=unanswered text="my number is [phone]" call=c-42
}
