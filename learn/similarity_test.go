package learn

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// pairs is the labelled table the threshold was chosen on: questions callers
// ask in other words (same: true) and different questions that share words
// (same: false), in English and Chinese. The hard negatives are on purpose:
// "change my tariff" and "change my address" share all but one word.
var pairs = []struct {
	a, b string
	same bool
}{
	// English, same question.
	{"what time do you open on saturday", "are you open on saturdays", true},
	{"how do I change my tariff", "I want to change tariff", true},
	{"can I pay my bill by direct debit", "how do I set up a direct debit to pay the bill", true},
	{"where can I park", "is there any parking", true},
	{"my smart meter display is blank", "the display on my smart meter is blank", true},
	{"do you install solar panels", "can you fit solar panels on my roof", true},
	{"I'm moving house what do I do", "what do I do when I move house", true},
	{"I want to cancel my contract", "how can I cancel the contract", true},
	{"Do you have a Welsh speaking team?", "is there a welsh speaking advisor", true},
	{"my account number is 12345678 and I need a refund", "I need a refund my account is 99887766", true},
	{"how do I get a warm home discount", "am I eligible for the warm home discount", true},
	{"can I switch to a fixed tariff", "how do I switch to a fixed rate tariff", true},
	// English, different questions.
	{"what time do you open on saturday", "can I pay my bill on saturday", false},
	{"how do I change my tariff", "how do I change my address", false},
	{"my smart meter display is blank", "my smart meter is not sending readings", false},
	{"do you install solar panels", "do you repair boilers", false},
	{"I want to cancel my contract", "I want to cancel my direct debit", false},
	{"where can I park", "where can I pay", false},
	{"how do I get a warm home discount", "how do I get a copy of my bill", false},
	{"can I switch to a fixed tariff", "can I switch off my gas supply", false},
	{"my account number is 12345678 and I need a refund", "what is my account number", false},
	{"is there a welsh speaking advisor", "is there a problem in my area", false},
	// Chinese, same question.
	{"你们周末上班吗", "周末你们上不上班", true},
	{"怎么修改收货地址", "收货地址填错了怎么改", true},
	{"发票怎么开", "我要开发票", true},
	{"快递到哪里了", "我的快递现在到哪了", true},
	{"可以用花呗付款吗", "能不能用花呗付款", true},
	{"優惠券怎麼用", "优惠券怎么使用", true},
	{"退货运费谁出", "退货的运费由谁承担", true},
	{"订单一直没有发货", "我的订单怎么还不发货", true},
	{"会员积分怎么兑换", "积分可以兑换什么", true},
	{"能开增值税专用发票吗", "可以开专票吗 增值税专用发票", true},
	// Chinese, different questions.
	{"怎么修改收货地址", "怎么修改手机号", false},
	{"发票怎么开", "发票什么时候寄出", false},
	{"快递到哪里了", "快递能送到新疆吗", false},
	{"优惠券怎么用", "积分怎么用", false},
	{"退货运费谁出", "退款多久到账", false},
	{"订单一直没有发货", "订单怎么取消", false},
	{"会员积分怎么兑换", "怎么注册会员", false},
	{"你们周末上班吗", "你们的客服电话是多少", false},
	{"可以用花呗付款吗", "付款失败了怎么办", false},
}

// knownMisses are pairs the similarity is known to get wrong, counted but
// not failed: a short question inside a longer one about something else
// (telling them apart needs word weights learned from the inbox).
var knownMisses = map[string]bool{
	"my account number is 12345678 and I need a refund | what is my account number": true,
}

// TestSimilarityTable checks DefaultThreshold against the labelled table
// and prints the scores (go test -run SimilarityTable -v ./learn/).
func TestSimilarityTable(t *testing.T) {
	type scored struct {
		s           float64
		same, known bool
		pair        string
	}
	var all []scored
	for _, p := range pairs {
		s := Similarity(p.a, p.b)
		if s2 := Similarity(p.b, p.a); s2 != s {
			t.Errorf("not symmetric: %q %q %.3f %.3f", p.a, p.b, s, s2)
		}
		pair := p.a + " | " + p.b
		all = append(all, scored{s, p.same, knownMisses[pair], pair})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s > all[j].s })
	var b strings.Builder
	for _, x := range all {
		fmt.Fprintf(&b, "%.3f %-5v %s\n", x.s, x.same, x.pair)
	}
	t.Logf("scores:\n%s", b.String())
	var tp, fp, fn int
	for _, x := range all {
		switch {
		case x.s >= DefaultThreshold && x.same:
			tp++
		case x.s >= DefaultThreshold && !x.same:
			fp++
			if !x.known {
				t.Errorf("grouped, but different: %.3f %s", x.s, x.pair)
			}
		case x.s < DefaultThreshold && x.same:
			fn++
			if !x.known {
				t.Errorf("not grouped, but the same question: %.3f %s", x.s, x.pair)
			}
		}
	}
	t.Logf("threshold %.2f: %d of %d paraphrases grouped, %d of %d different questions wrongly grouped",
		DefaultThreshold, tp, tp+fn, fp, len(all)-tp-fn)
}

// BenchmarkBest500 is the grouper's work per question on a full cache: 500
// open groups compared (the store write aside).
func BenchmarkBest500(b *testing.B) {
	g := NewGrouper(GrouperOptions{})
	lc := &langCache{}
	for i := range 500 {
		p := pairs[i%len(pairs)]
		lc.groups = append(lc.groups, &candidate{rep: features(fmt.Sprintf("%s %s %d", p.a, p.b, i))})
	}
	q := "what time do you shut on saturdays"
	b.ReportAllocs()
	for b.Loop() {
		g.best(lc, features(q))
	}
}
