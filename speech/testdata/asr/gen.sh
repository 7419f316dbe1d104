#!/usr/bin/env bash
# Regenerates the spoken test set from phrases.txt: for each NAME, NAME.wav is
# what hotline receives from a caller's phone: espeak-ng (voice en-us) -> 8 kHz
# G.711 A-law -> 16-bit PCM, mono, with 0.3 s of silence before and 0.5 s after
# (the call's voice activity detection keeps a pre-roll and ends the utterance
# after some silence). Needs espeak-ng and sox. The WAVs are committed so tests
# do not depend on the installed espeak-ng version; run this after editing
# phrases.txt:   speech/testdata/asr/gen.sh
set -euo pipefail
cd "$(dirname "$0")"
VOICE=${VOICE:-en-us}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
grep -v '^#' phrases.txt | while IFS='|' read -r name _ _ text; do
  [ -n "$name" ] || continue
  espeak-ng -v "$VOICE" -w "$tmp/$name.tts.wav" "$text"
  sox "$tmp/$name.tts.wav" -r 8000 -c 1 -e a-law -t raw "$tmp/$name.alaw" pad 0.3 0.5
  sox -t raw -r 8000 -c 1 -e a-law "$tmp/$name.alaw" -b 16 -e signed-integer "$name.wav"
done
ls ./*.wav | wc -l
