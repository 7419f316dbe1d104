package main

// Reading the datasets in ../shared/datasets. None of them is copied into the
// repository: SMP2017-ECDT in particular is for internal benchmarking only.

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Utterance is one labelled text. Label is oosLabel for out-of-scope queries.
type Utterance struct {
	Text, Label string
}

const oosLabel = "oos"

// Dataset is a benchmark's splits. Val and OOSVal are used only to choose the
// no-match threshold; Test and OOSTest only to report.
type Dataset struct {
	Name     string // banking77, clinc150, smp2017, smp2017-asr
	Language string // the script's language: en or zh-CN
	Train    []Utterance
	Val      []Utterance
	OOSVal   []Utterance
	Test     []Utterance
	OOSTest  []Utterance
}

// HasOOS reports whether the dataset has out-of-scope queries.
func (d *Dataset) HasOOS() bool { return len(d.OOSTest) > 0 }

// errMissing: the dataset's files are not there (the datasets live outside
// the repository).
var errMissing = errors.New("dataset not present")

func openData(path string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, errMissing)
	}
	return f, err
}

// loadBanking77 reads train.csv and test.csv (header text,category).
func loadBanking77(dir string) (*Dataset, error) {
	d := &Dataset{Name: "banking77", Language: "en"}
	var err error
	if d.Train, err = readCSV(filepath.Join(dir, "banking77", "train.csv")); err != nil {
		return nil, err
	}
	if d.Test, err = readCSV(filepath.Join(dir, "banking77", "test.csv")); err != nil {
		return nil, err
	}
	return d, nil
}

func readCSV(path string) ([]Utterance, error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	var out []Utterance
	for line := 0; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if line == 0 || len(rec) != 2 {
			continue // the header
		}
		out = append(out, Utterance{Text: rec[0], Label: rec[1]})
	}
	return out, nil
}

// loadCLINC150 reads data_full.json (the "Full" benchmark).
func loadCLINC150(dir string) (*Dataset, error) {
	path := filepath.Join(dir, "clinc150", "data_full.json")
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var raw map[string][][2]string
	if err := json.NewDecoder(f).Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	conv := func(split string) []Utterance {
		out := make([]Utterance, 0, len(raw[split]))
		for _, p := range raw[split] {
			out = append(out, Utterance{Text: p[0], Label: p[1]})
		}
		return out
	}
	// oos_train is not used: the matcher learns no "out-of-scope" intent, it
	// has a no-match threshold.
	return &Dataset{Name: "clinc150", Language: "en", Train: conv("train"), Val: conv("val"),
		OOSVal: conv("oos_val"), Test: conv("test"), OOSTest: conv("oos_test")}, nil
}

// smpTrainRows is the number of data rows of the official train block; the
// develop block follows (see the dataset's SOURCE.md for how it was inferred).
const smpTrainRows = 2299

// loadSMP2017 reads Chinese_data.csv (tab-separated, header Sentence<TAB>Tag):
// train rows → develop rows as the test split.
func loadSMP2017(dir string) (*Dataset, error) {
	path := filepath.Join(dir, "smp2017_ecdt_task1", "Chinese_data.csv")
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := &Dataset{Name: "smp2017", Language: "zh-CN"}
	sc := bufio.NewScanner(f)
	row := -1
	for sc.Scan() {
		row++
		if row == 0 {
			continue
		}
		text, label, ok := strings.Cut(strings.TrimRight(sc.Text(), "\r"), "\t")
		if !ok {
			return nil, fmt.Errorf("%s:%d: no tab", path, row+1)
		}
		u := Utterance{Text: text, Label: label}
		if row <= smpTrainRows {
			d.Train = append(d.Train, u)
		} else {
			d.Test = append(d.Test, u)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// loadTSV reads a small text<TAB>label file (the fixture).
func loadTSV(path string) ([]Utterance, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Utterance
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		text, label, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("%s:%d: no tab", path, i+1)
		}
		out = append(out, Utterance{Text: text, Label: label})
	}
	return out, nil
}

// sample returns at most n utterances spread evenly over us (the files are
// sorted by label, so a stride keeps every label); n <= 0 means all.
func sample(us []Utterance, n int) []Utterance {
	if n <= 0 || len(us) <= n {
		return us
	}
	out := make([]Utterance, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, us[i*len(us)/n])
	}
	return out
}

// keepLabels keeps the utterances of the first n labels (in sorted order) in
// every in-scope split; n <= 0 keeps all. For the smoke test.
func (d *Dataset) keepLabels(n int) {
	if n <= 0 {
		return
	}
	set := map[string]bool{}
	for _, u := range d.Train {
		set[u.Label] = true
	}
	labels := make([]string, 0, len(set))
	for l := range set {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	if len(labels) <= n {
		return
	}
	keep := map[string]bool{}
	for _, l := range labels[:n] {
		keep[l] = true
	}
	filter := func(us []Utterance) []Utterance {
		var out []Utterance
		for _, u := range us {
			if keep[u.Label] {
				out = append(out, u)
			}
		}
		return out
	}
	d.Train, d.Val, d.Test = filter(d.Train), filter(d.Val), filter(d.Test)
}
