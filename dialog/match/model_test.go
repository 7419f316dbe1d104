package match

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/dialog/textnorm"
)

// bankIntents is a small English and Chinese script with a handful of
// examples per intent, the common hotline case.
func bankIntents() []Intent {
	return []Intent{
		{Name: "lost_card", Examples: []string{"i lost my card", "my card was stolen", "someone took my credit card",
			"i can't find my debit card", "my wallet with my card is gone", "please block my card, it is missing"}},
		{Name: "balance", Examples: []string{"what is my balance", "how much money do i have", "show me my account balance",
			"how much is left in my account", "tell me what's in my current account", "check my balance please"}},
		{Name: "opening_hours", Examples: []string{"when are you open", "what time do you close today",
			"are you open on saturday", "opening hours of the branch", "until when can i come in", "do you open on sundays"}},
		{Name: "refund", Examples: []string{"我要退款", "钱什么时候退给我", "退的钱还没到账", "申请退款怎么操作", "退款进度查询", "能不能把钱退回来"}},
		{Name: "delivery", Examples: []string{"快递什么时候到", "我的包裹到哪里了", "几天能送到", "物流信息怎么查", "发货了吗", "还没收到货"}},
	}
}

func TestExampleModelLearns(t *testing.T) {
	m := compile(t, allTiers, bankIntents()...)
	all := m.All()
	for in, want := range map[string]string{
		"I think somebody stole my credit card": "lost_card",
		"how much money is in my account":       "balance",
		"what time do you open on saturday":     "opening_hours",
		"退款什么时候能到":                              "refund",
		"包裹什么时候送到":                              "delivery",
		"play some music":                       "",
		"我想点一份外卖":                               "",
	} {
		r := m.Match(in, all)
		if r.Intent != want {
			t.Errorf("Match(%q) = %q, want %q\n  %s", in, r.Intent, want, r.Explain())
			continue
		}
		if want == "" {
			continue
		}
		if r.Tier != Example || r.Score < m.Threshold() || r.Score > 1 {
			t.Errorf("Match(%q): %s", in, r.Explain())
		}
		// The winner explains itself with features of the input.
		c := r.Candidates[0]
		if len(c.Features) == 0 || c.Evidence == "" {
			t.Errorf("Match(%q): no evidence: %+v", in, c)
		}
		for _, f := range c.Features {
			if f.Text == "" || f.Kind == "" || f.Weight <= 0 {
				t.Errorf("Match(%q): bad feature %+v", in, f)
			}
		}
		if r.Coverage <= 0 || r.Coverage > 1 {
			t.Errorf("Match(%q): coverage %v", in, r.Coverage)
		}
	}
}

// Scores are probabilities: over the example candidates of a model (no
// intent with few examples) they add up to at most 1.
func TestExampleScoresAreProbabilities(t *testing.T) {
	m := compile(t, allTiers, bankIntents()...)
	for _, in := range []string{"my card", "card balance", "退款包裹", "open", "hello there"} {
		r := m.Match(in, m.All())
		sum := 0.0
		for _, c := range r.Candidates {
			sum += c.Score
		}
		if sum > 1+1e-6 {
			t.Errorf("Match(%q): candidate scores add up to %.3f: %s", in, sum, r.Explain())
		}
	}
}

// Words no example has make the bot less sure, never surer.
func TestUnknownWordsDampTheScore(t *testing.T) {
	m := compile(t, allTiers, bankIntents()...)
	plain := m.Match("i lost my card", m.All())
	noisy := m.Match("i lost my card zorblax quintessential frobnicate", m.All())
	if plain.Intent != "lost_card" || noisy.Score >= plain.Score {
		t.Errorf("plain %s\nnoisy %s", plain.Explain(), noisy.Explain())
	}
	if noisy.Coverage >= plain.Coverage {
		t.Errorf("coverage %.2f with unknown words, %.2f without", noisy.Coverage, plain.Coverage)
	}
}

// The model does not depend on the order intents and examples are written in.
func TestExampleModelIgnoresOrder(t *testing.T) {
	a := bankIntents()
	b := bankIntents()
	slices.Reverse(b)
	for i := range b {
		b[i].Examples = slices.Clone(b[i].Examples)
		slices.Reverse(b[i].Examples)
	}
	ma, mb := compile(t, allTiers, a...), compile(t, allTiers, b...)
	for _, in := range []string{"my card is gone", "余额", "when do you close", "退款", "快递到哪了"} {
		ra, rb := ma.Match(in, ma.All()), mb.Match(in, mb.All())
		if ra.Intent != rb.Intent || ra.Score != rb.Score {
			t.Errorf("%q: %s\n  reversed: %s", in, ra.Explain(), rb.Explain())
		}
	}
}

// Only the active intents compete; "none of these" is always there.
func TestExampleModelActiveIntents(t *testing.T) {
	m := compile(t, allTiers, bankIntents()...)
	only := NewSet(m.Len())
	only.Add(m.Index("balance"))
	r := m.Match("i lost my card", only)
	if r.Matched() {
		t.Errorf("an inactive intent's question matched the only active one: %s", r.Explain())
	}
	for _, c := range r.Candidates {
		if c.Intent != "balance" {
			t.Errorf("inactive candidate %s", c.Intent)
		}
	}
}

// An intent taught one example (as from the unanswered inbox) matches what is
// close to it, even among intents with many examples.
func TestOneExampleIntent(t *testing.T) {
	intents := append(bankIntents(), Intent{Name: "parking", Examples: []string{"where can I leave my car"}})
	m := compile(t, allTiers, intents...)
	if r := m.Match("where can i leave the car", m.All()); r.Intent != "parking" {
		t.Errorf("%s", r.Explain())
	}
	// Where the model is unsure, the nearest example speaks for the intent,
	// and says so.
	m = compile(t, allTiers,
		Intent{Name: "a1", Examples: []string{"我想问一下快递的事情"}},
		Intent{Name: "a2", Examples: []string{"我想问一下发票的事情"}},
		Intent{Name: "hours", Examples: []string{"你们晚上几点还有人", "星期天有客服吗"}})
	r := m.Match("我想问一下事情", m.All())
	if r.Intent != "a1" || !strings.HasPrefix(r.Evidence, "like ") || len(r.Candidates[0].Features) == 0 {
		t.Errorf("%s", r.Explain())
	}
	if r := m.Match("那个晚上8点还有人吗", m.All()); r.Intent != "hours" {
		t.Errorf("%s", r.Explain())
	}
}

// With more features than maxWeights allows, features share weight rows by
// hash: it still learns.
func TestExampleModelHashedRows(t *testing.T) {
	cfg := defaultModel
	cfg.maxRows = 64
	m := buildModel(bankIntents(), cfg)
	if m.rows != 64 {
		t.Fatalf("%d rows, want 64", m.rows)
	}
	mm := &Matcher{intents: bankIntents(), examples: m}
	var got []Candidate
	m.match(mm, textnorm.Analyze("i lost my card"), mm.All(), &scratch{}, func(c Candidate) { got = append(got, c) })
	if len(got) == 0 || got[0].Intent != "lost_card" {
		t.Errorf("hashed rows: %+v", got)
	}
}

// The temperature is fitted when enough examples can be held out, and then
// the scores are honest on held-out-like questions.
func TestTemperatureFitted(t *testing.T) {
	var intents []Intent
	for i := range 10 {
		in := Intent{Name: fmt.Sprintf("topic%d", i)}
		for j := range 12 {
			in.Examples = append(in.Examples, fmt.Sprintf("question about topic%d number %d with word%d", i, j, (i*7+j)%13))
		}
		intents = append(intents, in)
	}
	m := buildModel(intents, defaultModel)
	if m.temp == float32(defaultModel.temp) || m.temp <= 0 || math.IsNaN(float64(m.temp)) {
		t.Errorf("temperature %v not fitted", m.temp)
	}
	small := buildModel(bankIntents()[:2], defaultModel)
	if small.temp != float32(defaultModel.temp) {
		t.Errorf("temperature %v fitted on too few examples", small.temp)
	}
}
