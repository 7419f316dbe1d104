#!/usr/bin/python3
"""The understanding benchmark's baseline: scikit-learn TF-IDF + logistic regression.

Same datasets, splits, metrics and no-match procedure as `go run ./bench/understanding`:

  /usr/bin/python3 bench/understanding/baseline.py [--datasets ../shared/datasets] [--only banking77,clinc150,...] [--limit N]

Features: word 1-2-grams for English, character 1-3-grams for Chinese (sublinear TF, scikit-learn's defaults
otherwise); LogisticRegression(C=10, max_iter=2000), fixed before looking at any test data. For CLINC150 the
no-match threshold on the highest class probability is chosen on val + oos_val only, over a fixed grid, by two
rules (as the Go benchmark): maximising (in-scope accuracy + OOS recall) / 2, and maximising OOS recall while at
most 2% of the in-scope questions are answered with no match; each is then applied to test + oos_test. smp2017-asr uses the
noisy develop split the Go benchmark makes (it runs `go run ./bench/understanding -dump-asr`, unless
--smp-asr names such a file), so both systems see the same errors.

Needs Debian's python3-sklearn (installed by .ci/deps). A full run (no --only, no --limit, every dataset present)
rewrites the baseline block of bench/results/understanding.md.
"""

import argparse
import csv
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

OOS = "oos"
ALL = ["banking77", "clinc150", "smp2017", "smp2017-asr"]
SMP_TRAIN_ROWS = 2299  # see the dataset's SOURCE.md
THRESHOLDS = [round(0.01 * i, 2) for i in range(0, 100)]  # 0.00 … 0.99, as the Go benchmark's grid


class Missing(Exception):
    pass


def need(path):
    if not os.path.exists(path):
        raise Missing(f"{path}: dataset not present")
    return path


def read_csv(path):
    with open(need(path), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return [(r[0], r[1]) for r in rows[1:] if len(r) == 2]


def load(name, root, asr_file):
    """Returns (language, train, val, oos_val, test, oos_test) as lists of (text, label)."""
    if name == "banking77":
        return ("en", read_csv(os.path.join(root, "banking77", "train.csv")), [], [], read_csv(
            os.path.join(root, "banking77", "test.csv")), [])
    if name == "clinc150":
        with open(need(os.path.join(root, "clinc150", "data_full.json")), encoding="utf-8") as f:
            d = json.load(f)
        c = lambda k: [(t, l) for t, l in d[k]]  # noqa: E731
        return "en", c("train"), c("val"), c("oos_val"), c("test"), c("oos_test")
    path = need(os.path.join(root, "smp2017_ecdt_task1", "Chinese_data.csv"))
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")[1:]
    rows = [tuple(line.rstrip("\r").split("\t", 1)) for line in lines if line.strip()]
    train, test = rows[:SMP_TRAIN_ROWS], rows[SMP_TRAIN_ROWS:]
    if name == "smp2017-asr":
        with open(asr_file(), encoding="utf-8") as f:
            test = [tuple(line.split("\t", 1)) for line in f.read().split("\n") if line.strip()]
    return "zh", train, [], [], test, []


def sample(rows, n):
    """At most n rows spread evenly (the files are sorted by label), as the Go benchmark does."""
    if n <= 0 or len(rows) <= n:
        return rows
    return [rows[i * len(rows) // n] for i in range(n)]


def scores(gold, pred):
    """gold: labels (OOS for out of scope); pred: labels or '' for no match."""
    labels = sorted({g for g in gold if g != OOS})
    tp, fp, fn = {}, {}, {}
    n_in = ok = n_oos = oos_nm = nm = in_nm = 0
    for g, p in zip(gold, pred):
        nm += p == ""
        if g == OOS:
            n_oos += 1
            if p == "":
                oos_nm += 1
            else:
                fp[p] = fp.get(p, 0) + 1
            continue
        n_in += 1
        if p == g:
            ok += 1
            tp[p] = tp.get(p, 0) + 1
        else:
            fn[g] = fn.get(g, 0) + 1
            if p == "":
                in_nm += 1
            else:
                fp[p] = fp.get(p, 0) + 1
    r = lambda a, b: a / b if b else 0.0  # noqa: E731
    f1 = [r(2 * tp.get(l, 0), 2 * tp.get(l, 0) + fp.get(l, 0) + fn.get(l, 0)) for l in labels]
    return dict(n=len(gold), acc=r(ok, n_in), f1=r(sum(f1), len(f1)), oos=n_oos > 0, oos_recall=r(oos_nm, n_oos),
                oos_prec=r(oos_nm, nm), false_reject=r(in_nm, n_in), no_match=r(nm, len(gold)))


# Rules for choosing the threshold on val + oos_val, as in run.go: better(candidate, best, arg-max scores).
MAX_FALSE_REJECT = 0.02


def _mean(s):
    return (s["acc"] + s["oos_recall"]) / 2


def _false_rejects(s, best, closed):
    if s["false_reject"] > MAX_FALSE_REJECT + 1e-12:
        return False
    if best["false_reject"] > MAX_FALSE_REJECT + 1e-12:
        return True
    return s["oos_recall"] > best["oos_recall"] + 1e-12 or (
        s["oos_recall"] >= best["oos_recall"] - 1e-12 and s["acc"] > best["acc"] + 1e-12)


RULES = [
    ("mean", "maximising (in-scope accuracy + OOS recall) / 2", lambda s, best, closed: _mean(s) > _mean(best) + 1e-12),
    ("2% false rejects", "maximising OOS recall while at most 2% of the in-scope questions are answered with no match",
     _false_rejects),
]


def decide(proba, classes, threshold):
    out = []
    for row in proba:
        i = row.argmax()
        out.append(classes[i] if row[i] >= threshold else "")
    return out


def fit(lang, train):
    if lang == "zh":
        vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    else:
        vec = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
    clf = LogisticRegression(C=10, max_iter=2000)
    start = time.perf_counter()
    X = vec.fit_transform([t for t, _ in train])
    clf.fit(X, [l for _, l in train])
    return vec, clf, time.perf_counter() - start


def timed_proba(vec, clf, texts):
    """One utterance at a time, as a caller's turn would be; returns probabilities and per-utterance seconds."""
    rows, took = [], []
    for t in texts:
        start = time.perf_counter()
        p = clf.predict_proba(vec.transform([t]))[0]
        took.append(time.perf_counter() - start)
        rows.append(p)
    return rows, took


def pctl(xs, q):
    s = sorted(xs)
    return s[int(q * (len(s) - 1))] if s else 0.0


def row(dataset, system, sc, learn, took, size):
    p = lambda x: f"{100 * x:.1f}"  # noqa: E731
    oos_r, oos_p = (p(sc["oos_recall"]), p(sc["oos_prec"])) if sc["oos"] else ("–", "–")
    learn_s = f"{learn:.2f} s" if learn >= 1 else f"{1000 * learn:.0f} ms"
    return (f"| {dataset} | {system} | {p(sc['acc'])} | {p(sc['f1'])} | {oos_r} | {oos_p} | {p(sc['false_reject'])} | "
            f"{p(sc['no_match'])} | {sc['n']} | {learn_s} | {1e6 * pctl(took, 0.5):.0f} µs / {1e6 * pctl(took, 0.99):.0f} µs | "
            f"{size / 2**20:.1f} MiB (pickled) |")


HEADER = ("| dataset | system | accuracy % | macro-F1 % | OOS recall % | OOS precision % | in-scope false reject % | "
          "no match % | n | time to learn | per utterance p50 / p99 | heap after learning |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def run(name, root, limit, asr_file, notes):
    lang, train, val, oos_val, test, oos_test = load(name, root, asr_file)
    vec, clf, learn = fit(lang, train)
    size = len(pickle.dumps((vec, clf)))
    classes = list(clf.classes_)
    rows = []
    if oos_test:
        v = sample(val, limit) + sample(oos_val, limit)
        vp, _ = timed_proba(vec, clf, [t for t, _ in v])
        closed = scores([l for _, l in v], decide(vp, classes, 0.0))
        chosen = []
        for rule, note, better in RULES:
            best, best_sc = 0.0, None
            for th in THRESHOLDS:
                sc = scores([l for _, l in v], decide(vp, classes, th))
                if best_sc is None or better(sc, best_sc, closed):
                    best, best_sc = th, sc
            notes.append(f"{name}: rule {rule}: probability threshold chosen on val + oos_val ({len(v)} utterances; grid "
                         f"0.00–0.99 step 0.01; {note}): {best:.2f}, where val in-scope accuracy was "
                         f"{100 * best_sc['acc']:.1f}% (arg-max {100 * closed['acc']:.1f}%), in-scope false rejects "
                         f"{100 * best_sc['false_reject']:.1f}% and oos_val recall {100 * best_sc['oos_recall']:.1f}%.")
            chosen.append((rule, best))
        t = sample(test, limit) + sample(oos_test, limit)
        tp, took = timed_proba(vec, clf, [x for x, _ in t])
        gold = [l for _, l in t]
        for rule, best in chosen:
            rows.append(row(name, f"baseline (chosen on val, rule {rule}: threshold {best:.2f})",
                            scores(gold, decide(tp, classes, best)), learn, took, size))
        rows.append(row(name, "baseline (arg-max, no threshold)", scores(gold, decide(tp, classes, 0.0)), learn, took,
                        size))
    else:
        t = sample(test, limit)
        tp, took = timed_proba(vec, clf, [x for x, _ in t])
        rows.append(row(name, "baseline (arg-max)", scores([l for _, l in t], decide(tp, classes, 0.0)), learn, took,
                        size))
    for r in rows:
        print(r, file=sys.stderr)
    return rows


def write_block(path, name, block):
    with open(path, encoding="utf-8") as f:
        data = f.read()
    begin, end = f"<!-- begin {name} -->\n", f"<!-- end {name} -->"
    i, j = data.find(begin), data.find(end)
    if i < 0 or j < i:
        raise SystemExit(f"{path}: no {begin.strip()} … {end} block")
    with open(path, "w", encoding="utf-8") as f:
        f.write(data[:i + len(begin)] + block + data[j:])


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import sklearn
    return (f"{cpu} ({os.cpu_count()} cores), Python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
            "one thread")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="../shared/datasets")
    ap.add_argument("--only", default="")
    ap.add_argument("--limit", type=int, default=0, help="at most N utterances per evaluation split (0: all)")
    ap.add_argument("--smp-asr", default="", help="the noisy SMP2017 develop split from `go run ./bench/understanding -dump-asr FILE`")
    ap.add_argument("--out", default="bench/results/understanding.md")
    a = ap.parse_args()
    only = [n.strip() for n in a.only.split(",") if n.strip()]
    for n in only:
        if n not in ALL:
            ap.error(f"unknown dataset {n!r} (have {', '.join(ALL)})")
    tmp = tempfile.mkdtemp(prefix="hotline-understanding-")

    def asr_file():
        if a.smp_asr:
            return a.smp_asr
        path = os.path.join(tmp, "smp2017-asr.tsv")
        if not os.path.exists(path):
            subprocess.run(["go", "run", "./bench/understanding", "-only", "smp2017-asr", "-out", "", "-datasets",
                            a.datasets, "-dump-asr", path], check=True, stdout=subprocess.DEVNULL)
        return path

    rows, notes, ran = [], [], 0
    for name in ALL:
        if only and name not in only:
            continue
        try:
            rows += run(name, a.datasets, a.limit, asr_file, notes)
            ran += 1
        except Missing as e:
            print(f"skipping {name}: {e}", file=sys.stderr)
    table = HEADER + "\n" + "\n".join(rows) + "\n"
    print(table, end="")
    for n in notes:
        print("- " + n)
    if not a.out or only or a.limit or ran < len(ALL):
        if a.out:
            print(f"not writing {a.out}: only a full run with every dataset present does", file=sys.stderr)
        return
    block = (f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} on {machine()}.\n\n```sh\n"
             "nice -n 19 /usr/bin/python3 bench/understanding/baseline.py\n```\n\n" + table + "\n" +
             "".join(f"- {n}\n" for n in notes))
    write_block(a.out, "baseline", block)
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
