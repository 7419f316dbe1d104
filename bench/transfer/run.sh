#!/usr/bin/env bash
# Transfer set-up time: REFER sent -> final NOTIFY (sipfrag 2xx) received,
# measured on hotline serve from its own JSON log (nanosecond timestamps),
# N blind transfers per peer, one call at a time:
#   - SIPp (e2e/testdata/transfer/uac_refer_ok.xml): the transferee answers
#     the REFER 202 and sends NOTIFY 100 and 200 at once, so this is hotline's
#     own overhead plus SIPp's;
#   - baresip: a real phone that follows the REFER, calls the agent (a SIPp
#     UAS, e2e/testdata/transfer/uas_agent.xml) and NOTIFYs 200 when it answers.
# The measurement is e2e's TestBlindTransferTiming (it only runs when
# HOTLINE_BENCH_TRANSFER is set). Everything stays on 127.0.0.1; every process
# is bounded and stopped by its own PID. Needs root (SIPp's pcap replay of the
# RFC 4733 key), sip-tester, baresip, espeak-ng and sox.
#   N     transfers per peer (20; at most 200)
#   RACE  1: build and run with -race (slower; not how the results were taken)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-20}
args=(-count=1 -timeout 30m -run '^TestBlindTransferTiming$' -v)
[ "${RACE:-0}" = 1 ] && args+=(-race)
HOTLINE_BENCH_TRANSFER=$N go test "${args[@]}" ./e2e/ 2>&1 |
  grep -E 'RESULT|samples:|^(---|    ---|ok|FAIL|PASS)' || true
