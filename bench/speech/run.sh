#!/usr/bin/env bash
# Spoken calls end to end: intent accuracy, word error rate, barge-in on the
# wire, the latency from the end of speech to the reply (p50/p99, split into
# endpointing, recognition and the rest) and the recogniser's CPU per second
# of audio. Writes OUT (default bench/speech/out/) and prints the summary.
#
#   bench/speech/run.sh            # as root (tshark captures on lo); ~2 minutes
#   RUNS=3 bench/speech/run.sh     # TestSpokenCalls three times (accuracy spread)
#
# Needs what e2e/ needs (espeak-ng, sox, tshark) and libpocketsphinx-dev +
# pocketsphinx-en-us. No -race here: these are the numbers of a release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$(realpath -m "${OUT:-bench/speech/out}"); RUNS=${RUNS:-1}  # absolute: the tests run in e2e/
mkdir -p "$OUT"
export HOTLINE_TAGS=${HOTLINE_TAGS:-pocketsphinx}

echo "== machine"
{ uname -srm; nproc; grep -m1 'model name' /proc/cpuinfo || true; go version; git rev-parse --short HEAD; date -u; } | tee "$OUT/machine.txt"

# 1. The spoken set through live calls (TestSpokenCalls writes its report to
#    HOTLINE_SPEECH_REPORT), and barge-in on the wire.
for i in $(seq 1 "$RUNS"); do
  echo "== TestSpokenCalls run $i"
  HOTLINE_SPEECH_REPORT="$OUT/spoken-$i.md" go test -count=1 -v -timeout 10m \
    -run 'TestSpokenCalls$' ./e2e/ > "$OUT/spoken-$i.log" 2>&1 || echo "(TestSpokenCalls failed: see $OUT/spoken-$i.log)"
  if [ -f "$OUT/spoken-$i.md" ]; then grep -E '^(intent|end of|caller|endpointing|recognition|rest|total|recogniser|hotline serve)' "$OUT/spoken-$i.md"; fi
done
echo "== TestBargeInOnTheWire"
go test -count=1 -v -timeout 5m -run 'TestBargeInOnTheWire$' ./e2e/ > "$OUT/bargein.log" 2>&1 || echo "(TestBargeInOnTheWire failed: see $OUT/bargein.log)"
grep -E 'barge-in (on the wire|off)|--- (PASS|FAIL|SKIP)' "$OUT/bargein.log" || true

# 2. The recogniser alone on the same phrases (bench/asr: one stream at a
#    time, CPU per second of audio from getrusage, Close latency).
echo "== pocketsphinx alone on the spoken set (bench/asr)"
SET=$(mktemp -d); trap 'rm -rf "$SET"' EXIT
n=0
grep -E '^- \{intent:' e2e/testdata/speech/phrases.yaml |
  sed -E 's/^- \{intent: ([a-z_]+), keyword: ([^,]+), say: "(.*)"\}$/\1|\2|\3/' |
  while IFS='|' read -r intent keyword text; do
    n=$((n + 1)); name=$(printf 'p%02d' "$n")
    espeak-ng -v en-us -w "$SET/$name.tts.wav" "$text"
    # what hotline receives: 8 kHz G.711 A-law, 0.3 s before and 0.5 s after
    sox "$SET/$name.tts.wav" -r 8000 -c 1 -e a-law -t raw "$SET/$name.alaw" pad 0.3 0.5
    sox -t raw -r 8000 -c 1 -e a-law "$SET/$name.alaw" -b 16 -e signed-integer "$SET/$name.wav"
    # bench/asr's format: name|intent|keyword the transcript must contain|text
    echo "$name|$intent|$keyword|$text" >> "$SET/phrases.txt"
  done
if [ -d bench/asr ]; then
  go run -tags pocketsphinx ./bench/asr -set "$SET" -modes jsgf,kws,lm | tee "$OUT/asr-alone.md"
else
  echo "(bench/asr is missing)"
fi
