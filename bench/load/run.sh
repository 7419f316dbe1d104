#!/usr/bin/env bash
# The load benchmark: SIPp callers (bench/load/uac_ivr.xml, the scenario used
# to measure Asterisk 20) against `hotline serve` running bench/load/ivr.yaml,
# LIMIT concurrent calls for DURATION seconds. It measures failed calls,
# hotline's CPU and memory, goroutines and open files before/during/after,
# and hotline's outbound RTP pacing as the receiver sees it (tshark on lo).
# Needs root (SIPp plays the caller audio from a pcap through a raw socket)
# and sipp, tshark, sox. Everything runs on 127.0.0.1 and stops by itself.
#
#   sudo bench/load/run.sh                 # 100 calls for 60 s
#   LIMIT=200 DURATION=120 bench/load/run.sh
set -euo pipefail
cd "$(dirname "$0")"
LIMIT=${LIMIT:-100}
DURATION=${DURATION:-60}
RECORD=${RECORD:-true}
SIP_PORT=${SIP_PORT:-5390}
HTTP_PORT=${HTTP_PORT:-8390}
RTP_MIN=${RTP_MIN:-30000}
RTP_MAX=${RTP_MAX:-$((RTP_MIN + 4 * LIMIT + 200))}
OUT=${OUT:-$(mktemp -d /tmp/hotline-load.XXXXXX)}
export PATH="/usr/local/go/bin:$PATH"

for tool in sipp tshark sox; do command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "needs root: SIPp plays the caller audio through a raw socket" >&2; exit 1; }

echo "== building hotline"
(cd ../.. && go build -o "$OUT/hotline" ./cmd/hotline && go build -o "$OUT/rtpgaps" ./bench/load/rtpgaps)
mkdir -p "$OUT/script"
cp ivr.yaml "$OUT/script/"
sox -n -r 8000 -c 1 -b 16 "$OUT/script/prompt10s.wav" synth 10 sine 300-900 vol 0.3
sox -n -r 8000 -c 1 -b 16 "$OUT/script/short.wav" synth 1 sine 600 vol 0.3

"$OUT/hotline" serve --script "$OUT/script/ivr.yaml" --listen "udp:127.0.0.1:$SIP_PORT" \
  --http "127.0.0.1:$HTTP_PORT" --rtp-ports "$RTP_MIN-$RTP_MAX" --data "$OUT/data" --record="$RECORD" \
  --max-calls $((LIMIT * 2)) --log-level warn --log-format json ${EXTRA:-} > "$OUT/hotline.log" 2>&1 &
HL=$!
cleanup() { kill "$HL" 2>/dev/null || true; [ -n "${TS:-}" ] && kill "$TS" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "127.0.0.1:$HTTP_PORT/healthz" > "$OUT/health-before.json" && break; sleep 0.1; done

ticks() { awk '{print $14 + $15}' "/proc/$HL/stat"; }
HZ=$(getconf CLK_TCK)
# A call lasts about 12.3 s against hotline (the key at 11 s, then a 1 s
# prompt); Asterisk's lasted 14 s. The rate keeps LIMIT calls up at once.
CALL_SECONDS=${CALL_SECONDS:-12.3}
RATE=$(awk -v l="$LIMIT" -v s="$CALL_SECONDS" 'BEGIN { printf "%.2f", l / s }')
CALLS=$(awk -v r="$RATE" -v d="$DURATION" 'BEGIN { printf "%d", r * d }')
echo "== $CALLS calls at $RATE/s (about $LIMIT at once) for ${DURATION}s; results in $OUT"

tshark -i lo -f "udp src portrange $RTP_MIN-$RTP_MAX" -w "$OUT/rtp.pcap" -a "duration:$((DURATION + 30))" -q 2>"$OUT/tshark.err" &
TS=$!
sleep 2
T0=$(ticks); W0=$(date +%s.%N)
# Sample load, memory, goroutines and files every second while the calls run.
( while kill -0 "$HL" 2>/dev/null; do
    curl -sf "127.0.0.1:$HTTP_PORT/healthz" | tr -d '\n'; echo " rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$HL/status)"
    sleep 1
  done ) > "$OUT/samples.txt" 2>/dev/null &
SAMPLER=$!
sipp -sf uac_ivr.xml -s ivr -i 127.0.0.1 -mi 127.0.0.1 -r "$RATE" -l "$LIMIT" -m "$CALLS" \
  -timeout $((DURATION + 60)) -trace_stat -stf "$OUT/sipp_stat.csv" -trace_err -error_file "$OUT/sipp_errors.log" \
  -trace_screen -screen_file "$OUT/sipp_screen.log" "127.0.0.1:$SIP_PORT" > /dev/null 2>&1 || true
T1=$(ticks); W1=$(date +%s.%N)
sleep 3
curl -sf "127.0.0.1:$HTTP_PORT/healthz" > "$OUT/health-after.json" || true
kill "$SAMPLER" 2>/dev/null || true
wait "$TS" 2>/dev/null || true

echo "== results"
grep -E "Successful call|Failed call" "$OUT/sipp_screen.log" | tail -2 | sed 's/^ *//'
CPU=$(awk -v t0="$T0" -v t1="$T1" -v hz="$HZ" 'BEGIN { printf "%.2f", (t1 - t0) / hz }')
WALL=$(awk -v w0="$W0" -v w1="$W1" 'BEGIN { printf "%.1f", w1 - w0 }')
awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^rss_kb=/) { split($i, a, "="); if (a[2] > m) m = a[2] } } END { printf "peak RSS: %.1f MiB\n", m / 1024 }' "$OUT/samples.txt"
python3 - "$OUT" "$CPU" "$WALL" <<'PY'
import json, sys, re
out, cpu, wall = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def h(name):
    try: return json.load(open(f"{out}/{name}"))
    except Exception: return {}
peak = {"active_calls": 0, "goroutines": 0, "open_fds": 0}
call_seconds = 0  # one sample a second: the sum of active calls is call-seconds
for line in open(f"{out}/samples.txt"):
    m = re.match(r"(\{.*\})", line)
    if not m: continue
    try: j = json.loads(m.group(1))
    except Exception: continue
    call_seconds += j.get("active_calls", 0)
    for k in peak: peak[k] = max(peak[k], j.get(k, 0))
print(f"hotline CPU: {cpu:.1f} s in {wall:.0f} s = {100*cpu/wall:.1f}% of one core; "
      f"{1000*cpu/max(call_seconds,1):.2f} ms per call-second ({call_seconds} call-seconds)")
b, a = h("health-before.json"), h("health-after.json")
print(f"goroutines: before {b.get('goroutines')}, peak {peak['goroutines']}, after {a.get('goroutines')}")
print(f"open fds: before {b.get('open_fds')}, peak {peak['open_fds']}, after {a.get('open_fds')}")
print(f"active calls: peak {peak['active_calls']}, after {a.get('active_calls')}")
PY
echo "outbound RTP pacing at the receiver:"
tshark -r "$OUT/rtp.pcap" -o rtp.heuristic_rtp:TRUE -T fields -E separator=, -e frame.time_epoch -e udp.srcport -e rtp.ssrc 2>/dev/null | "$OUT/rtpgaps"
echo "hotline errors logged: $(grep -c '"level":"ERROR"' "$OUT/hotline.log" || true)"
