package textnorm

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// genPieces are the building blocks of TestFoldIdempotentGenerated: the
// characters and words the number rules look at, so that random sequences
// of them reach the interactions a byte fuzzer seldom does.
var genPieces = strings.Fields(`
零 〇 一 二 三 四 五 六 七 八 九 两 幺 十 百 千 万 亿 壹 贰 叁 拾 佰 仟 萬 億 兩 貳
天 个 号 点 月 日 年 元 块 分 钟 秒 次 毛 米 小时 星期 礼拜 周 第 几 多 半 下 些 儿 之
上午 下午 明天 十分 乱七八糟 一五一十 一块儿 乾 於 徵 麼 乾清宮 於其一 幺麼 們 訂單
zero one two three four five six seven eight nine ten eleven nineteen twenty ninety
hundred thousand million billion and a oh o double triple first
don't dont can't cannot won't i'm 'd 's 'll it's let's o'neil
0 1 2 3 12 123 1000 . , ,000 ,00 - : ' ’ ！ ， 。 … ＡＢＣ １２ ① Ｙ ̊ ́
周一 星期三 礼拜 十分钟 一点 有一点 三五 两三 十几 几十 百分之 万一 千万 1.5 3.
`)

func genString(r *rand.Rand) string {
	var b strings.Builder
	n := 1 + r.IntN(8)
	for i := 0; i < n; i++ {
		switch r.IntN(6) {
		case 0:
			b.WriteByte(' ')
		case 1:
			if r.IntN(4) == 0 {
				b.WriteString([]string{"\n", "\t", "  ", "\u3000", "\x00"}[r.IntN(5)])
			}
		}
		b.WriteString(genPieces[r.IntN(len(genPieces))])
	}
	return b.String()
}

func TestFoldIdempotentGenerated(t *testing.T) {
	n, seed := 50000, uint64(1)
	if testing.Short() {
		n = 5000
	}
	if v, err := strconv.Atoi(os.Getenv("TEXTNORM_GEN_N")); err == nil {
		n, seed = v, uint64(v) // a longer, different run: TEXTNORM_GEN_N=2000000
	}
	r := rand.New(rand.NewPCG(seed, 2))
	fails := 0
	for i := 0; i < n && fails < 20; i++ {
		s := genString(r)
		once := Fold(s)
		if twice := Fold(once); twice != once {
			t.Errorf("Fold not idempotent on %q:\n  once:  %q\n  twice: %q", s, once, twice)
			fails++
		}
		checkUnits(t, once, Units(once))
		if d := Digits(s); d != Digits(once) {
			t.Errorf("Digits(%q) = %q, Digits(Fold) = %q", s, d, Digits(once))
			fails++
		}
	}
}
