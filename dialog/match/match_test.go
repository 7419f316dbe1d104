package match

import (
	"strings"
	"testing"
)

func compile(t testing.TB, opt Options, intents ...Intent) *Matcher {
	t.Helper()
	for i := range intents {
		intents[i].Negation = true
	}
	m, err := Compile(intents, opt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var allTiers = Options{Pinyin: true, Examples: true}

func shopIntents() []Intent {
	return []Intent{
		{Name: "agent", Keywords: []string{"人工", "客服", "真人", "转人工", "agent", "operator", "a person"}, DTMF: []string{"0"}, Handoff: true},
		{Name: "repeat", Keywords: []string{"再说一遍", "没听清", "repeat"}, DTMF: []string{"*"}},
		{Name: "hours", Keywords: []string{"营业时间", "几点开门", "几点下班", "opening hours"}, Examples: []string{"你们周末上班吗", "are you open on saturday"}},
		{Name: "refund", Keywords: []string{"退款", "退钱", "退货", "refund"}, Exclude: []string{"不退"}},
		{Name: "order", Keywords: []string{"订单", "查订单", "物流", "order status"}, DTMF: []string{"1"}},
		{Name: "invoice", Keywords: []string{"发票", "开票", "invoice"}, Priority: 1},
		{Name: "delivery", Keywords: []string{"发货", "几天到", "delivery"}},
		{Name: "promise", Keywords: []string{"7天无理由"}},
	}
}

func TestMatchTable(t *testing.T) {
	m := compile(t, allTiers, shopIntents()...)
	all := m.All()
	cases := []struct {
		in, want string
		tier     Tier
	}{
		{"我想退款", "refund", Keyword},
		{"我要申请退款,谢谢", "refund", Keyword},
		{"我的訂單到哪裡了", "order", Keyword},            // Traditional
		{"ＯＲＤＥＲ ＳＴＡＴＵＳ please", "order", Keyword}, // full width
		{"I'd like a refund please", "refund", Keyword},
		{"my refunds haven't arrived", "refund", Keyword}, // stemming
		{"what are your opening hours", "hours", Keyword},
		{"你们几点开门", "hours", Keyword},
		{"我想退宽", "refund", Pinyin},      // homophone from a recogniser
		{"帮我转仁工", "agent", Keyword},     // 工 alone? no: 人工 missing, but 转人工 → pinyin
		{"营业时是几点", "hours", Pinyin},     // one character missing from 营业时间
		{"七天无理由退吗", "promise", Keyword}, // 七天 → 7天, and the longer keyword wins
		{"今天天气怎么样", "", NoTier},
		{"", "", NoTier},
		{"reagent", "", NoTier}, // whole words only for Latin script
	}
	for _, c := range cases {
		r := m.Match(c.in, all)
		if r.Intent != c.want {
			t.Errorf("Match(%q) = %q, want %q\n  %s", c.in, r.Intent, c.want, r.Explain())
			continue
		}
		if c.want != "" && c.tier != Keyword && r.Tier != c.tier && c.in != "帮我转仁工" {
			t.Errorf("Match(%q) tier = %s, want %s\n  %s", c.in, r.Tier, c.tier, r.Explain())
		}
	}
}

func TestHomophoneTierAndExplain(t *testing.T) {
	m := compile(t, allTiers, shopIntents()...)
	r := m.Match("我想退宽", m.All())
	if r.Tier != Pinyin || r.Score != scorePinyin {
		t.Fatalf("want pinyin tier at %.2f, got %s", scorePinyin, r.Explain())
	}
	if !strings.Contains(r.Evidence, "退款") || !strings.Contains(r.Evidence, "退宽") {
		t.Errorf("evidence should name the keyword and what was heard: %q", r.Evidence)
	}
	// Without the pinyin tier there is no match.
	m2 := compile(t, Options{}, shopIntents()...)
	if r := m2.Match("我想退宽", m2.All()); r.Matched() {
		t.Errorf("pinyin off: want no match, got %s", r.Explain())
	}
}

func TestFuzzyPinyin(t *testing.T) {
	m := compile(t, allTiers, Intent{Name: "nanjing", Keywords: []string{"南京路"}}, Intent{Name: "ship", Keywords: []string{"发货"}})
	for _, in := range []string{"兰京路", "南经路", "哈货"} { // n/l, in/ing, f/h
		if r := m.Match(in, m.All()); !r.Matched() || r.Tier != Pinyin {
			t.Errorf("Match(%q): want a pinyin match, got %s", in, r.Explain())
		}
	}
	// Single-character keywords are never matched by sound: too many homophones.
	m = compile(t, allTiers, Intent{Name: "yes", Keywords: []string{"是"}})
	if r := m.Match("十", m.All()); r.Matched() {
		t.Errorf("a single character must not match by sound: %s", r.Explain())
	}
}

func TestNegationAndExclusion(t *testing.T) {
	m := compile(t, allTiers, shopIntents()...)
	all := m.All()
	cases := []struct{ in, want, rejected string }{
		{"不要人工", "", "agent"},
		{"我不需要转人工", "", "agent"},
		{"不用转人工了,我要退款", "refund", "agent"},
		{"不要退款,转人工", "agent", "refund"},
		{"我不退了", "", "refund"}, // exclusion
		{"为什么还没退款", "refund", ""},
		{"I don't want an agent", "", "agent"},
		{"I don't want an agent I want a refund", "refund", "agent"},
		{"please don't transfer me to an agent", "", "agent"},
		{"I do not know my order status", "order", ""},
		{"别转人工", "", "agent"},
		{"别的订单", "order", ""},
	}
	for _, c := range cases {
		r := m.Match(c.in, all)
		if r.Intent != c.want {
			t.Errorf("Match(%q) = %q, want %q\n  %s", c.in, r.Intent, c.want, r.Explain())
		}
		if c.rejected != "" {
			found := false
			for _, rej := range r.Rejected {
				found = found || rej.Intent == c.rejected
			}
			if !found {
				t.Errorf("Match(%q): want %s among rejected, got %+v", c.in, c.rejected, r.Rejected)
			}
		}
	}
	// An intent that opts out of negation keeps its keyword.
	in := Intent{Name: "cancel", Keywords: []string{"取消"}}
	mm, err := Compile([]Intent{in}, allTiers)
	if err != nil {
		t.Fatal(err)
	}
	if r := mm.Match("不要取消", mm.All()); r.Intent != "cancel" {
		t.Errorf("negation: false intent: got %s", r.Explain())
	}
}

func TestRanking(t *testing.T) {
	m := compile(t, allTiers, shopIntents()...)
	all := m.All()
	// Both match by keyword: higher priority wins.
	if r := m.Match("发货了吗 能开发票吗", all); r.Intent != "invoice" {
		t.Errorf("priority: got %s", r.Explain())
	}
	// Same priority: the longer keyword wins ("查订单" over "退货"? no: specificity).
	if r := m.Match("查订单还是退货", all); r.Intent != "order" {
		t.Errorf("specificity: got %s", r.Explain())
	}
	// Handoff wins over anything it is found with, even higher priority.
	if r := m.Match("开发票的事转人工吧", all); r.Intent != "agent" {
		t.Errorf("handoff: got %s", r.Explain())
	}
	if len(m.Match("发货了吗 能开发票吗", all).Candidates) < 2 {
		t.Errorf("candidates should list the runner-up")
	}
}

func TestActiveSet(t *testing.T) {
	m := compile(t, allTiers, shopIntents()...)
	s := NewSet(m.Len())
	s.Add(m.Index("refund"))
	if r := m.Match("转人工", s); r.Matched() {
		t.Errorf("inactive intent matched: %s", r.Explain())
	}
	if r := m.Match("退款", s); r.Intent != "refund" {
		t.Errorf("active intent: %s", r.Explain())
	}
	if m.Index("nope") != -1 || s.Has(-1) || s.Has(1000) {
		t.Error("bad index handling")
	}
}

func TestMatchDigits(t *testing.T) {
	m := compile(t, allTiers, shopIntents()...)
	if r := m.MatchDigits("0", m.All()); r.Intent != "agent" || r.Tier != DTMF {
		t.Errorf("0: %s", r.Explain())
	}
	if r := m.MatchDigits("9", m.All()); r.Matched() || r.Reason == "" {
		t.Errorf("9: %s", r.Explain())
	}
	s := NewSet(m.Len())
	if r := m.MatchDigits("0", s); r.Matched() {
		t.Errorf("inactive dtmf matched")
	}
}

func TestExamplesTier(t *testing.T) {
	m := compile(t, allTiers,
		Intent{Name: "weekend", Examples: []string{"你们周末上班吗", "星期六有人吗", "周日营业吗"}},
		Intent{Name: "lost_card", Examples: []string{"i lost my card", "my card was stolen", "someone took my credit card"}},
		Intent{Name: "balance", Examples: []string{"what is my balance", "how much money do i have"}},
	)
	all := m.All()
	for in, want := range map[string]string{
		"周末你们上班吗":                   "weekend",
		"I think I lost my card":    "lost_card",
		"what's my account balance": "balance",
		"我想点一份外卖":                   "",
		"play some music":           "",
	} {
		r := m.Match(in, all)
		if r.Intent != want {
			t.Errorf("Match(%q) = %q, want %q\n  %s", in, r.Intent, want, r.Explain())
		}
		if want != "" && r.Tier != Example {
			t.Errorf("Match(%q): want the example tier, got %s", in, r.Tier)
		}
	}
	// The threshold decides "I don't know".
	strict, err := Compile([]Intent{{Name: "balance", Examples: []string{"what is my balance"}}}, Options{Examples: true, Threshold: 0.99})
	if err != nil {
		t.Fatal(err)
	}
	if r := strict.Match("what is my balance please", strict.All()); r.Matched() || !strings.Contains(r.Reason, "below the threshold") {
		t.Errorf("threshold: %s", r.Explain())
	}
}

func TestMarginMakesAmbiguousNoMatch(t *testing.T) {
	intents := []Intent{
		{Name: "a", Examples: []string{"card payment problem"}},
		{Name: "b", Examples: []string{"card payment question"}},
	}
	m, err := Compile(intents, Options{Examples: true, Threshold: 0.2, Margin: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Match("card payment", m.All()); r.Matched() || !strings.Contains(r.Reason, "ambiguous") {
		t.Errorf("want ambiguous no match, got %s", r.Explain())
	}
}

func TestSynonyms(t *testing.T) {
	m := compile(t, Options{Synonyms: [][]string{{"订单", "单子"}, {"bill", "invoice", "statement"}}},
		Intent{Name: "order", Keywords: []string{"查订单"}},
		Intent{Name: "bill", Keywords: []string{"pay my bill"}},
	)
	for in, want := range map[string]string{"帮我查单子": "order", "I want to pay my statement": "bill", "pay my invoice": "bill"} {
		if r := m.Match(in, m.All()); r.Intent != want {
			t.Errorf("Match(%q) = %s, want %s", in, r.Explain(), want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	if _, err := Compile([]Intent{{Name: ""}}, Options{}); err == nil {
		t.Error("empty name accepted")
	}
	if _, err := Compile([]Intent{{Name: "a"}, {Name: "a"}}, Options{}); err == nil {
		t.Error("duplicate name accepted")
	}
}

func TestConcurrentUse(t *testing.T) {
	m := compile(t, allTiers, shopIntents()...)
	done := make(chan bool)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				if r := m.Match("我想退宽 what are your opening hours", m.All()); !r.Matched() {
					t.Error("no match")
				}
			}
			done <- true
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
}

// Cases found by writing the Chinese example hotline.
func TestExampleHotlineFindings(t *testing.T) {
	intents := []Intent{
		{Name: "agent", Keywords: []string{"人工", "转人工", "找客服"}, Handoff: true},
		{Name: "hours", Keywords: []string{"人工服务时间", "营业时间"}},
		{Name: "complaint", Keywords: []string{"什么破", "投诉"}},
		{Name: "not_received", Keywords: []string{"没收到"}},
		{Name: "refund", Keywords: []string{"退给我", "退款"}},
		{Name: "delivery", Keywords: []string{"能到吗"}},
		{Name: "repeat", Keywords: []string{"再说一遍"}},
		{Name: "yes", Keywords: []string{"有", "是的"}},
		{Name: "no", Keywords: []string{"没有了", "没有"}},
		{Name: "other_order", Keywords: []string{"订单"}},
	}
	m := compile(t, allTiers, intents...)
	all := m.All()
	for _, c := range []struct{ in, want string }{
		{"你叫什么名字", ""},             // no 3→2 character shortening
		{"我收到了", ""},               // idem
		{"给我讲个笑话", ""},             // idem
		{"钱能退回来吗", ""},             // a rare reading of 能 must not make 来 sound like it
		{"晚上八点还有人吗", "yes"},        // not delivery
		{"人工服务时间", "hours"},        // the longer keyword explains 人工
		{"别给我转人工", ""},             // refusal a few characters before
		{"不要帮我转接人工", ""},           // idem
		{"人工就不用了", ""},             // refusal after the keyword
		{"转人工就不用了", ""},            // idem
		{"退款不要了", ""},              // idem
		{"人工就不用了,我问问退款", "refund"}, // the refusal does not spill into the next clause
		{"再说一边", "repeat"},         // 再说一遍 is stored as 再说1遍: digits sound like numerals
		{"妹有了", "no"},              // 没有了 by sound covers 有
		{"我不是要投诉", ""},             // 不是 refuses
		{"是不是要投诉", "complaint"},    // 是不是 asks
		{"别的订单", "other_order"},    // 别的 is "another"
	} {
		r := m.Match(c.in, all)
		if r.Intent != c.want {
			t.Errorf("Match(%q) = %q, want %q\n  %s", c.in, r.Intent, c.want, r.Explain())
		}
	}
	// A weak (pinyin or example) match of the handoff intent does not trump a clear answer.
	m = compile(t, allTiers,
		Intent{Name: "agent", Keywords: []string{"找客服"}, Handoff: true},
		Intent{Name: "hours", Examples: []string{"星期天有客服吗", "周末有人吗"}})
	if r := m.Match("星期天有客服吗", m.All()); r.Intent != "hours" {
		t.Errorf("weak handoff won: %s", r.Explain())
	}
}

// Cases found by writing the English example hotline.
func TestEnglishHotlineFindings(t *testing.T) {
	m := compile(t, allTiers,
		Intent{Name: "outage", Keywords: []string{"power", "power cut"}},
		Intent{Name: "pay", Keywords: []string{"pay"}},
		Intent{Name: "billing", Keywords: []string{"bill"}},
		Intent{Name: "pay_bill", Keywords: []string{"pay my bill"}},
	)
	all := m.All()
	for _, c := range []struct{ in, want string }{
		{"i have no power", "outage"}, // a problem, not a refusal
		{"there is no power since this morning", "outage"},
		{"i cannot pay", "pay"},
		{"i can't pay online", "pay"},
		{"i can't pay my bill", "pay_bill"},
		{"i do not want to pay my bill", ""},
	} {
		r := m.Match(c.in, all)
		if r.Intent != c.want {
			t.Errorf("Match(%q) = %q, want %q\n  %s", c.in, r.Intent, c.want, r.Explain())
		}
	}
	// A keyword inside a refused longer one is explained, not silently dropped.
	r := m.Match("i do not want to pay my bill", all)
	for _, name := range []string{"pay_bill", "billing"} {
		if !hasRejection(r.Rejected, name) {
			t.Errorf("want %s explained among the rejected: %s", name, r.Explain())
		}
	}
}

func TestKeywordInsideRefusal(t *testing.T) {
	m := compile(t, allTiers,
		Intent{Name: "yes", Keywords: []string{"是", "要", "好的"}},
		Intent{Name: "no", Keywords: []string{"不需要", "不要"}},
		Intent{Name: "refund", Keywords: []string{"退款"}})
	for in, want := range map[string]string{"退款不要了": "", "不需要": "no", "要": "yes", "不要": "no"} {
		if r := m.Match(in, m.All()); r.Intent != want {
			t.Errorf("Match(%q) = %q, want %q: %s", in, r.Intent, want, r.Explain())
		}
	}
}
