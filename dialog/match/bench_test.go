package match

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// commonHan is a pool of everyday characters for synthetic keywords.
const commonHan = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理世车"

var englishWords = strings.Fields(`account balance card payment bill invoice statement refund order delivery
parcel address move home meter reading outage power gas leak emergency password login transfer fee charge
interest loan mortgage savings branch opening hours close weekend holiday complaint manager agent person
direct debit standing order overdraft limit credit debit contactless pin reset block unblock stolen lost
travel abroad currency exchange rate cheque deposit withdraw cash machine atm app online banking`)

// syntheticIntents builds n intents with k keywords each, three Chinese to one
// English, and e examples each; deterministic.
func syntheticIntents(n, k, e int) []Intent {
	rng := rand.New(rand.NewSource(1))
	han := []rune(commonHan)
	hanWord := func(l int) string {
		var b strings.Builder
		for i := 0; i < l; i++ {
			b.WriteRune(han[rng.Intn(len(han))])
		}
		return b.String()
	}
	enWord := func(l int) string {
		var ws []string
		for i := 0; i < l; i++ {
			ws = append(ws, englishWords[rng.Intn(len(englishWords))])
		}
		return strings.Join(ws, " ")
	}
	out := make([]Intent, n)
	for i := range out {
		in := Intent{Name: fmt.Sprintf("intent%03d", i), Negation: true}
		for j := 0; j < k; j++ {
			if j%4 == 3 {
				in.Keywords = append(in.Keywords, enWord(2+rng.Intn(2)))
			} else {
				in.Keywords = append(in.Keywords, hanWord(2+rng.Intn(3)))
			}
		}
		for j := 0; j < e; j++ {
			if j%2 == 0 {
				in.Examples = append(in.Examples, "我想问一下"+hanWord(6+rng.Intn(6)))
			} else {
				in.Examples = append(in.Examples, "i would like to ask about my "+enWord(3))
			}
		}
		out[i] = in
	}
	return out
}

func benchMatch(b *testing.B, opt Options, examples int, utterance string) {
	intents := syntheticIntents(500, 10, examples)
	m, err := Compile(intents, opt)
	if err != nil {
		b.Fatal(err)
	}
	all := m.All()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Match(utterance, all)
	}
}

const (
	benchZH = "你好我想查一下我上个月的订单现在到哪里了能不能帮我看看"
	benchEN = "hi there i would like to check the balance on my account and maybe pay my bill"
)

// 500 intents, 5,000 keywords: the size of a large hotline's script.
func BenchmarkMatch500x5000ZH(b *testing.B) { benchMatch(b, Options{Pinyin: true}, 0, benchZH) }
func BenchmarkMatch500x5000EN(b *testing.B) { benchMatch(b, Options{Pinyin: true}, 0, benchEN) }

// The same with 4 examples per intent (2,000 examples) in the example tier.
func BenchmarkMatch500x5000Examples2000ZH(b *testing.B) {
	benchMatch(b, Options{Pinyin: true, Examples: true}, 4, benchZH)
}
func BenchmarkMatch500x5000Examples2000EN(b *testing.B) {
	benchMatch(b, Options{Pinyin: true, Examples: true}, 4, benchEN)
}

func BenchmarkCompile500x5000(b *testing.B) {
	intents := syntheticIntents(500, 10, 4)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(intents, Options{Pinyin: true, Examples: true}); err != nil {
			b.Fatal(err)
		}
	}
}
