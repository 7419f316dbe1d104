#!/bin/sh
# Regenerates the test speech: espeak-ng (1.51 made the committed files),
# en-us voice, resampled by sox to 8 kHz mono 16-bit. The tests trim the
# silence espeak-ng puts around each phrase and put G.711 and noise on it
# themselves.
set -eu
cd "$(dirname "$0")"
say() {
	espeak-ng -v en-us --stdout "$2" | sox -D -R - -r 8000 -c 1 -b 16 -e signed-integer "$1.wav"
}
say hello "Hello, I would like to check the status of my order."
say first "Can you tell me"
say second "when you are open on Saturday?"
say long "Thank you for your help yesterday. My package still has not arrived, and the tracking page says it left the warehouse on Monday."
say yes "yes"
say no "no"
