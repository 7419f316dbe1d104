package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mozillazg/go-pinyin"

	"github.com/hotline-dev/hotline/dialog"
)

func fixture(t *testing.T) (train, test []Utterance) {
	t.Helper()
	train, err := loadTSV(filepath.Join("testdata", "train.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	test, err = loadTSV(filepath.Join("testdata", "test.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	return train, test
}

// TestFixture runs the whole out-of-scope pipeline (teach, choose the
// threshold on val, measure on test) on a dozen made-up utterances, so the
// code runs in CI even where the datasets are not.
func TestFixture(t *testing.T) {
	train, test := fixture(t)
	d := &Dataset{Name: "fixture", Language: "en", Train: train}
	for _, u := range test {
		if u.Label == oosLabel {
			d.OOSVal, d.OOSTest = append(d.OOSVal, u), append(d.OOSTest, u)
		} else {
			d.Val, d.Test = append(d.Val, u), append(d.Test, u)
		}
	}
	rep, err := Config{}.runOOS(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != len(rules)+2 {
		t.Fatalf("%d rows, want %d", len(rep.Rows), len(rules)+2)
	}
	for _, r := range rep.Rows {
		t.Logf("%s", strings.TrimSpace(r.markdown()))
		if r.Scores.N != len(test) {
			t.Errorf("%s: scored %d utterances, want %d", r.System, r.Scores.N, len(test))
		}
	}
	// In-scope only (threshold 0.01): every made-up question has its answer.
	if s := rep.Rows[len(rep.Rows)-1].Scores; s.Accuracy < 1 {
		t.Errorf("in-scope accuracy on the fixture %.2f, want 1", s.Accuracy)
	}
}

// TestSameAsLearn: the learned file the benchmark writes at once gives the
// same script as teaching each utterance with dialog.Learn, as staff do.
func TestSameAsLearn(t *testing.T) {
	train, test := fixture(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "script.yaml")
	if err := os.WriteFile(path, []byte(scriptYAML("fixture", "en", closed)), 0o644); err != nil {
		t.Fatal(err)
	}
	started := map[string]bool{}
	for _, u := range train {
		ch := dialog.LearnChange{Kind: dialog.LearnExample, Intent: u.Label, Phrase: u.Text}
		if !started[u.Label] {
			started[u.Label] = true
			ch = dialog.LearnChange{Kind: dialog.LearnAnswer, Intent: u.Label, Examples: []string{u.Text}, Say: "Answer for " + u.Label + "."}
		}
		if _, err := dialog.Learn(path, ch); err != nil {
			t.Fatalf("Learn %+v: %v", ch, err)
		}
	}
	taught, err := dialog.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bulk, err := learn("fixture", "en", train, closed)
	if err != nil {
		t.Fatal(err)
	}
	for label := range started {
		a, b := taught.IntentByName(label), bulk.Script.IntentByName(label)
		if a == nil || b == nil || strings.Join(a.Examples, "|") != strings.Join(b.Examples, "|") {
			t.Errorf("intent %s: taught %v, bulk %v", label, a, b)
		}
	}
	for _, u := range test {
		ra, rb := taught.Matcher().Match(u.Text, taught.Matcher().All()), bulk.Script.Matcher().Match(u.Text, bulk.Script.Matcher().All())
		if ra.Intent != rb.Intent || ra.Score != rb.Score {
			t.Errorf("%q: taught %s %.3f, bulk %s %.3f", u.Text, ra.Intent, ra.Score, rb.Intent, rb.Score)
		}
	}
}

func TestScore(t *testing.T) {
	gold := []Utterance{{"", "a"}, {"", "a"}, {"", "b"}, {"", "b"}, {"", oosLabel}, {"", oosLabel}}
	s := score(gold, []string{"a", "", "b", "a", "", "b"})
	want := Scores{N: 6, Accuracy: 0.5, OOS: true, OOSRecall: 0.5, OOSPrec: 0.5, FalseReject: 0.25, NoMatch: 2.0 / 6}
	// F1 a: tp 1, fp 1, fn 1 → 0.5; b: tp 1, fp 1, fn 1 → 0.5.
	want.MacroF1 = 0.5
	if s != want {
		t.Errorf("score = %+v, want %+v", s, want)
	}
}

func TestHomophoneNoise(t *testing.T) {
	train := []Utterance{{"我要查天气", "weather"}, {"明天会下雨吗", "weather"}, {"帮我打电话给妈妈", "telephone"}, {"以后再说", "chat"}}
	test := []Utterance{{"明天天气", "weather"}, {"打电话", "telephone"}}
	noisy, st := homophoneNoise(test, train, 0.5, 1)
	again, _ := homophoneNoise(test, train, 0.5, 1)
	if st.Han != 7 || st.Replaced != min(4, st.Substitutable) {
		t.Errorf("stats %+v", st)
	}
	args := pinyin.NewArgs()
	changed := 0
	for i := range test {
		if noisy[i] != again[i] {
			t.Errorf("not reproducible: %q, %q", noisy[i].Text, again[i].Text)
		}
		a, b := []rune(test[i].Text), []rune(noisy[i].Text)
		for j := range a {
			if a[j] != b[j] {
				changed++
				if pa, pb := pinyin.SinglePinyin(a[j], args), pinyin.SinglePinyin(b[j], args); pa[0] != pb[0] {
					t.Errorf("%c → %c: %s is not %s", a[j], b[j], pa[0], pb[0])
				}
			}
		}
	}
	if changed != st.Replaced {
		t.Errorf("%d characters changed, stats say %d", changed, st.Replaced)
	}
}

// datasets finds ../shared/datasets beside the repository.
func datasets(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "datasets")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// TestDatasetsSmoke runs the benchmark on a few hundred utterances of
// BANKING77 and CLINC150 (the first 6 labels). The datasets are not part of
// the repository (they are public data with their own licences, kept in
// ../shared/datasets beside it), so where they are absent this test skips:
// the one place a skip is right. TestFixture covers the code without them.
func TestDatasetsSmoke(t *testing.T) {
	dir := datasets(t)
	cfg := Config{Datasets: dir, Labels: 6, Limit: 200, Log: t.Logf}
	for _, name := range []string{"banking77", "clinc150"} {
		t.Run(name, func(t *testing.T) {
			rep, err := cfg.runDataset(name, "")
			if errors.Is(err, errMissing) {
				t.Skipf("%s is not in %s (the datasets live outside the repository): %v", name, dir, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			best := 0.0
			for _, r := range rep.Rows {
				t.Logf("%s", strings.TrimSpace(r.markdown()))
				if r.Scores.N < 100 {
					t.Errorf("%s: only %d utterances scored", r.System, r.Scores.N)
				}
				best = max(best, r.Scores.Accuracy)
			}
			if best < 0.3 {
				t.Errorf("best accuracy %.2f, below the floor 0.30", best)
			}
		})
	}
}
