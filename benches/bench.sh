#!/usr/bin/env bash
# End-to-end benchmark of the release binary on large synthetic logs.
#
#   benches/bench.sh [SIZE]        SIZE defaults to 1G (K, M, G suffixes: powers of 1024)
#
# Generates bench-data/exim-SIZE.log (cPanel Exim) and bench-data/postfix-SIZE.log with
# `cargo run --release -p mailtrace-synth --example genlog` unless they already exist (their ground truth goes
# next to them as *.truth.json), builds target/release/mailtrace, then times
# `mailtrace events FILE` and `mailtrace report FILE` on each, output to /dev/null. Every run is
# measured with /usr/bin/time -v (elapsed, MB/s from the file size, maximum resident set
# size); if hyperfine is installed it also reports mean and spread over a few runs.
# Environment: RUNS (hyperfine runs, default 3), SEED (generator seed, default 1).
set -euo pipefail

cd "$(dirname "$0")/.."

size="${1:-1G}"
runs="${RUNS:-3}"
seed="${SEED:-1}"
data=bench-data

if [[ ! $size =~ ^[0-9]+(\.[0-9]+)?[KkMmGg]?$ ]]; then
    echo "bench.sh: bad size '$size' (examples: 200M, 1G)" >&2
    exit 2
fi
if [[ ! -x /usr/bin/time ]]; then
    echo "bench.sh: /usr/bin/time is needed (Debian/Ubuntu package: time)" >&2
    exit 2
fi

echo "== building (release)"
cargo build --release --quiet --bin mailtrace
cargo build --release --quiet -p mailtrace-synth --example genlog
bin=target/release/mailtrace
gen=target/release/examples/genlog

mkdir -p "$data"
files=()
for mta in exim postfix; do
    f="$data/$mta-$size.log"
    if [[ ! -s $f ]]; then
        echo "== generating $f"
        extra=()
        [[ $mta == exim ]] && extra=(--cpanel)
        "$gen" --mta "$mta" --bytes "$size" --seed "$seed" "${extra[@]}" \
            --out "$f.part" --truth "$data/$mta-$size.truth.json"
        mv "$f.part" "$f"
    fi
    files+=("$f")
done

# Seconds from /usr/bin/time's "h:mm:ss" or "m:ss.ss".
to_seconds() {
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.3f", s }' <<<"$1"
}

have_hyperfine=0
command -v hyperfine >/dev/null 2>&1 && have_hyperfine=1

summary=()
failed=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for f in "${files[@]}"; do
    bytes=$(stat -c %s "$f")
    for cmd in events report; do
        echo "== mailtrace $cmd $f ($((bytes / 1000000)) MB)"
        if ((have_hyperfine)); then
            hyperfine --warmup 1 --runs "$runs" --style basic --output null \
                "$bin $cmd $f" || true
        fi
        # report exits 1 when it found problems (a tripped limit): that is a success here.
        rc=0
        /usr/bin/time -v "$bin" "$cmd" "$f" >/dev/null 2>"$tmp" || rc=$?
        if [[ $rc == 0 || ( $rc == 1 && $cmd == report ) ]]; then
            status=ok
        else
            status="FAILED (exit $rc)"
            failed=1
            grep -v -E '^\s' "$tmp" | head -5 >&2 || true
        fi
        elapsed=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp")
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp")
        rss=${rss:-0}
        secs=$(to_seconds "$elapsed")
        mbs=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", b / 1e6 / s; else print "-" }')
        line=$(printf '%-34s %-7s %9ss %7s MB/s %8s MB RSS  %s' \
            "$(basename "$f")" "$cmd" "$secs" "$mbs" "$((rss / 1024))" "$status")
        echo "$line"
        summary+=("$line")
    done
done

echo
echo "== summary (/usr/bin/time -v, one run each)"
printf '%s\n' "${summary[@]}"
exit "$failed"
