package privacy

import "testing"

var benchInputs = []struct{ name, text string }{
	{"zh_plain", "您好，我想查一下我上周买的那两件衣服什么时候发货，订单是昨天下午付的款"},
	{"en_plain", "Hi, I'd like to check when my order will ship, I paid for it yesterday afternoon at about 3 o'clock"},
	{"zh_phone", "您好，我的手机号是幺三八零零一三八零零零，麻烦帮我查一下订单什么时候发货"},
	{"en_phone", "Hi, you can call me back on 415-555-0132 when my order ships, thanks a lot"},
}

// BenchmarkRedact: a typical utterance without personal data, and one with a
// phone number.
func BenchmarkRedact(b *testing.B) {
	r := New()
	for _, in := range benchInputs {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.text)))
			for b.Loop() {
				r.Redact(in.text)
			}
		})
	}
}
