#!/usr/bin/env bash
# Memory of the real binaries moving one large document (issue 14): a release parley-relay
# and two release `parley` daemons (alice uploads with send-file, bob downloads with get-file).
# Reports, per process, the largest resident set seen while the document moved (sampled every
# 20 ms) and the relay's high-water mark over its whole life; fails if a transfer peak exceeds
# LIMIT_MIB. The daemons' own high-water marks include unlocking the folder (Argon2id with
# 64 MiB), which happens before the transfer and is reported apart.
#
#   scripts/document_memory.sh [SIZE_MIB=1024] [LIMIT_MIB=64]
set -euo pipefail

size_mib="${1:-1024}"
limit_mib="${2:-64}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo build --release -q -p parley-relay -p parley-cli
bin="$root/target/release"

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    PARLEY_HOME="$work/alice" "$bin/parley" daemon stop >/dev/null 2>&1 || true
    PARLEY_HOME="$work/bob" "$bin/parley" daemon stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
PARLEY_RELAY_LIMITS_MAX_BLOB_BYTES=$(( (size_mib * 2 + 1) << 20 )) \
PARLEY_RELAY_LIMITS_BLOB_BYTES_PER_SOURCE_PER_HOUR=0 \
    "$bin/parley-relay" --plaintext --listen "127.0.0.1:$port" --data "$work/relay" \
    --log-level warn &
relay=$!
pids+=("$relay")
sleep 1

printf 'document memory test passphrase\n' >"$work/pass"
chmod 600 "$work/pass"
person() { PARLEY_HOME="$work/$1" PARLEY_PASSPHRASE_FILE="$work/pass" "$bin/parley" "${@:2}"; }
for who in alice bob; do
    person "$who" init --relay "http://127.0.0.1:$port" --handle "$who" >/dev/null 2>&1
done
person alice send bob "a document follows" >/dev/null 2>&1
person bob read >/dev/null
for who in alice bob; do person "$who" daemon start >/dev/null 2>&1; done
daemon_pid() { person "$1" --json daemon status | python3 -c 'import json,sys,re; print(re.search(r"\d+", json.load(sys.stdin)["status"]).group())'; }
alice_daemon="$(daemon_pid alice)"
bob_daemon="$(daemon_pid bob)"

head -c "$((size_mib << 20))" /dev/urandom >"$work/big.bin"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# Runs a command while sampling the resident set of the given processes; prints their maxima.
sample_while() {
    local watched=("${@:2}")
    local -A peak
    for pid in "${watched[@]}"; do peak[$pid]=0; done
    bash -c "$1" &
    local job=$!
    while kill -0 "$job" 2>/dev/null; do
        for pid in "${watched[@]}"; do
            local now; now="$(rss_kib "$pid")"
            (( now > peak[$pid] )) && peak[$pid]=$now
        done
        sleep 0.02
    done
    wait "$job"
    for pid in "${watched[@]}"; do printf '%s ' "${peak[$pid]}"; done
    echo
}
export -f person
export work bin

start=$(date +%s.%N)
read -r up_daemon up_relay < <(sample_while "person alice send-file bob '$work/big.bin' --name big.bin" "$alice_daemon" "$relay")
mid=$(date +%s.%N)
person bob read >/dev/null
id="$(person bob --json files | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')"
read -r down_daemon down_relay < <(sample_while "person bob get-file '$id' --out '$work/out.bin' 2>/dev/null" "$bob_daemon" "$relay")
end=$(date +%s.%N)
cmp "$work/big.bin" "$work/out.bin"

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo "document: ${size_mib} MiB; upload $(awk -v a="$start" -v b="$mid" 'BEGIN{printf "%.1f", b-a}') s, download $(awk -v a="$mid" -v b="$end" 'BEGIN{printf "%.1f", b-a}') s; content identical"
echo "largest resident set while the document moved (MiB):"
echo "  alice's daemon (upload)    $(mib "$up_daemon")"
echo "  bob's daemon (download)    $(mib "$down_daemon")"
echo "  relay (upload / download)  $(mib "$up_relay") / $(mib "$down_relay")"
echo "high-water marks over each process's life (MiB): relay $(mib "$(hwm_kib "$relay")"), alice's daemon $(mib "$(hwm_kib "$alice_daemon")"), bob's daemon $(mib "$(hwm_kib "$bob_daemon")") (the daemons' include unlocking the folder)"
status=0
for kib in "$up_daemon" "$down_daemon" "$up_relay" "$down_relay"; do
    if (( kib > limit_mib * 1024 )); then status=1; fi
done
if (( status )); then echo "FAIL: a transfer peak exceeds ${limit_mib} MiB"; else echo "ok: every transfer peak is under ${limit_mib} MiB"; fi
exit "$status"
