package speech

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

func TestMandarinReadings(t *testing.T) {
	for in, want := range map[string]string{
		"不是":      "bu2是",
		"不好意思":    "不好意思",
		"不要挂机":    "bu2要挂机",
		"一个问题":    "yi2个问题",
		"一般":      "yi4般",
		"一下":      "yi2下",
		"第一":      "第一",
		"十一月":     "十一月",
		"按一":      "按一",
		"统一。":     "统一。",
		"一万二千元":   "一万二千元",
		"银行地址":    "yin2hang2di4zhi3",
		"请重新输入":   "请chong2xin1输入",
		"我回答不了。":  "我回答bu4liao3。",
		"不了解":     "不liao3jie3",
		"不重要":     "bu2重要",
		"节假日照常营业": "jie2jia4ri4照常营业",
		"hello":   "hello",
	} {
		if got := mandarinReadings(in); got != want {
			t.Errorf("mandarinReadings(%q) = %q, want %q", in, got, want)
		}
	}
}

// How well espeak-ng reads the Chinese example's prompts: the tone of every
// hanzi as spoken against go-pinyin's reading of it. Neutral tones where
// go-pinyin gives the citation tone (这个, 休息) count as disagreements,
// though a person says them that way, so the bar is below 100%.
func TestMandarinToneAgreement(t *testing.T) {
	e := needEspeak(t, EspeakOptions{})
	s := loadExample(t, "zh-shop")
	voice := e.Voice(s.Language)
	tones := map[string]string{"55": "1", "35": "2", "21": "3", "214": "3", "51": "4", "53": "4", "11": "5", "22": "5", "33": "5", "44": "5"}
	digits := regexp.MustCompile(`\d+`)
	args := pinyin.NewArgs()
	args.Style = pinyin.Tone3
	total, agree := 0, 0
	var wrong []string
	for _, text := range StaticPrompts(s) {
		var han []rune // what is still hanzi after preparation
		for _, r := range prepareText(text, voice, false) {
			if unicode.Is(unicode.Han, r) {
				han = append(han, r)
			}
		}
		out, err := exec.Command(e.bin, "-q", "-x", "-v", voice, "-b", "1", string(han)).Output()
		if err != nil {
			t.Fatal(err)
		}
		var syl []string
		for _, w := range strings.Split(string(out), "_|") {
			if w = strings.TrimSpace(w); w != "" {
				syl = append(syl, w)
			}
		}
		if len(syl) != len(han) {
			t.Errorf("%d hanzi, %d syllables: %s → %s", len(han), len(syl), string(han), out)
			continue
		}
		py := pinyin.LazyPinyin(string(han), args)
		for i := range han {
			total++
			got := tones[digits.FindString(syl[i])]
			want := "5"
			if p := py[i]; p != "" && p[len(p)-1] >= '1' && p[len(p)-1] <= '4' {
				want = p[len(p)-1:]
			}
			if got == want || want == "3" && got == "2" { // third-tone sandhi
				agree++
			} else {
				wrong = append(wrong, string(han[max(0, i-2):min(len(han), i+3)])+": "+string(han[i])+" "+syl[i]+" vs "+py[i])
			}
		}
	}
	rate := float64(agree) / float64(total)
	t.Logf("%d of %d hanzi in the zh-shop prompts (%.1f%%) spoken with go-pinyin's tone; the rest: %s", agree, total, rate*100, strings.Join(wrong, "; "))
	if rate < 0.97 {
		t.Errorf("tone agreement %.1f%%, want ≥ 97%%", rate*100)
	}
}
