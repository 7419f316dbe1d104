#!/usr/bin/env bash
# Regenerates the spoken test set from phrases.txt: for each NAME, NAME.wav is
# what hotline receives from a caller's phone: espeak-ng (voice en-us) -> 8 kHz
# G.711 A-law -> 16-bit PCM, mono, with 0.3 s of silence before and 0.5 s after
# (the call's voice activity detection keeps a pre-roll and ends the utterance
# after some silence). Needs espeak-ng and sox. The WAVs are committed so tests
# do not depend on the installed espeak-ng version; run this after editing
# phrases.txt:   speech/testdata/asr/gen.sh
#
# Other voices, for measurements (not committed):
#   VOICE=en-gb-x-rp OUT=/tmp/rp speech/testdata/asr/gen.sh          # another espeak-ng voice
#   TTS=flite VOICE=slt OUT=/tmp/slt speech/testdata/asr/gen.sh      # flite (apt-get install flite):
#                                                                    # slt, rms, awb, kal16: voices made from recordings of people
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TTS=${TTS:-espeak-ng}
VOICE=${VOICE:-en-us}
[ "$TTS" = flite ] && VOICE=${VOICE/en-us/slt}
OUT=${OUT:-$here}
mkdir -p "$OUT"
[ "$OUT" = "$here" ] || cp "$here/phrases.txt" "$OUT/"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
grep -v '^#' "$here/phrases.txt" | while IFS='|' read -r name _ _ text; do
  [ -n "$name" ] || continue
  case $TTS in
    espeak-ng) espeak-ng -v "$VOICE" -w "$tmp/$name.tts.wav" "$text" ;;
    flite)     flite -voice "$VOICE" -t "$text" -o "$tmp/$name.tts.wav" ;;
    *) echo "TTS must be espeak-ng or flite" >&2; exit 2 ;;
  esac
  sox "$tmp/$name.tts.wav" -r 8000 -c 1 -e a-law -t raw "$tmp/$name.alaw" pad 0.3 0.5
  sox -t raw -r 8000 -c 1 -e a-law "$tmp/$name.alaw" -b 16 -e signed-integer "$OUT/$name.wav"
done
ls "$OUT"/*.wav | wc -l
