#!/usr/bin/env bash
# Instructions per call of the hot paths beside their peers, counted by callgrind.
#
# Usage: crates/bench/callgrind.sh [CASE_PREFIX...]
#
# Builds the `instructions` example in release, runs each case (or each case whose name starts
# with one of the prefixes) under `valgrind --tool=callgrind` at two call counts, counting only
# the instructions inside the measured loop, and prints a markdown table: the case, the
# instructions per call ((count at N2 - count at N1) / (N2 - N1)) and the ratio to its peers.
# Instruction counts do not move with the machine's load, unlike wall-clock time.
#
# Environment: N1 and N2 (call counts, default 1000 and 101000), CARGO_TARGET_DIR.
set -euo pipefail

if ! command -v valgrind >/dev/null 2>&1; then
    echo "callgrind.sh: valgrind is not installed; it is needed to count instructions" >&2
    echo "  (Debian/Ubuntu: apt-get install valgrind)" >&2
    exit 1
fi

n1=${N1:-1000}
n2=${N2:-101000}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
bin=$target/release/examples/instructions

cargo build --quiet --release --manifest-path "$root/Cargo.toml" \
    -p elf-resilience-bench --example instructions

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Instructions executed inside the measured loop of case $1 run $2 times.
count() {
    local out=$work/callgrind.out
    if ! valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
        --toggle-collect='*callgrind_measured*' "$bin" run "$1" "$2" >/dev/null 2>"$work/log"; then
        echo "callgrind.sh: case $1 failed under valgrind:" >&2
        cat "$work/log" >&2
        exit 1
    fi
    local total
    total=$(awk '/^(totals|summary):/ { n = $2 } END { print n + 0 }' "$out")
    if [ "$total" -eq 0 ]; then
        echo "callgrind.sh: no instructions counted for $1 (is callgrind_measured inlined?)" >&2
        exit 1
    fi
    echo "$total"
}

selected() {
    [ $# -le 1 ] && return 0
    local name=$1
    shift
    for prefix in "$@"; do
        [[ $name == "$prefix"* ]] && return 0
    done
    return 1
}

declare -A per_call
names=()
declare -A peers_of
while read -r name peers; do
    selected "$name" "$@" || continue
    names+=("$name")
    peers_of[$name]=$peers
    a=$(count "$name" "$n1")
    b=$(count "$name" "$n2")
    per_call[$name]=$(awk -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" \
        'BEGIN { printf "%.1f", (b - a) / (n2 - n1) }')
    echo "  $name: ${per_call[$name]}" >&2
done < <("$bin" list)

echo
echo "Instructions per call, $(valgrind --version) --tool=callgrind, counts at N = $n1 and $n2 calls"
echo "differenced (crates/bench/callgrind.sh); every row includes the harness's call (bare_call)."
echo
echo "| case | instructions per call | ratio to peer |"
echo "|---|---:|---|"
for name in "${names[@]}"; do
    ratios=()
    if [ "${peers_of[$name]}" != "-" ]; then
        IFS=, read -ra peers <<<"${peers_of[$name]}"
        for peer in "${peers[@]}"; do
            [ -n "${per_call[$peer]:-}" ] || continue
            label=$peer
            [ "${peer%%/*}" = "${name%%/*}" ] && label=${peer#*/}
            ratios+=("$(awk -v x="${per_call[$name]}" -v y="${per_call[$peer]}" -v p="$label" \
                'BEGIN { printf "%.2f × %s", x / y, p }')")
        done
    fi
    joined=$(IFS=';'; echo "${ratios[*]:-}")
    echo "| $name | ${per_call[$name]} | ${joined//;/, } |"
done
