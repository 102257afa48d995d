#!/usr/bin/env bash
# Builds every fuzz target once, then runs each for SECONDS (default 30) from the committed
# seed corpus, as many at once as there are cores (FUZZ_JOBS to change that). Fails if any
# target crashes (panic, sanitizer report, timeout or OOM); prints executions per target. The
# stable toolchain is used through RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Zsanitizer); its own
# target dir keeps sanitizer builds out of the workspace's.
#
#   fuzz/run-all.sh [SECONDS] [TARGET...]
#   fuzz/run-all.sh --build-only          # install cargo-fuzz if missing and build, no runs
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$here/target"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
cargo fuzz build -O
if [ "${1:-}" = "--build-only" ]; then
    exit 0
fi

seconds="${1:-30}"
shift || true
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi
jobs="${FUZZ_JOBS:-$(nproc)}"

logs="$here/target/run-logs"
mkdir -p "$logs"

# Runs one target on a scratch copy of its seeds, so the committed seeds stay small and
# reviewed (new inputs are kept under target/ for the next local run); writes ok or CRASH
# to its .status file and always succeeds itself, so that the others go on.
run_one() {
    local target="$1" work="$here/target/corpus/$1" log="$logs/$1.log"
    mkdir -p "$work" "$here/artifacts/$target"
    cp -n "$here/corpus/$target"/* "$work"/ 2>/dev/null || true
    if cargo fuzz run -O "$target" "$work" -- \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$here/artifacts/$target/" >"$log" 2>&1; then
        echo ok >"$logs/$target.status"
    else
        echo CRASH >"$logs/$target.status"
    fi
}

running=0
for target in "${targets[@]}"; do
    rm -f "$logs/$target.status"
    run_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

failed=()
printf '%-18s %12s %8s  %s\n' target executions exec/s result
for target in "${targets[@]}"; do
    log="$logs/$target.log"
    status="$(cat "$logs/$target.status" 2>/dev/null || echo CRASH)"
    [ "$status" = ok ] || failed+=("$target")
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    printf '%-18s %12s %8s  %s\n' "$target" "${execs:-?}" "${rate:-?}" "$status"
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "crashed: ${failed[*]} (logs in $logs, inputs in $here/artifacts/)" >&2
    for target in "${failed[@]}"; do
        tail -40 "$logs/$target.log" >&2
    done
    exit 1
fi
echo "all ${#targets[@]} targets ran ${seconds}s without a crash ($jobs at a time)"
