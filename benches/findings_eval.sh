#!/usr/bin/env bash
# Precision and recall of the diagnosis on generated shared-server days (issue 8).
#
#   benches/findings_eval.sh [LINES]      LINES per day, default 650000 (K and M suffixes)
#
# Builds target/release/mailtrace and the day generator (crates/synth, example genday),
# generates the days below into bench-data/findings/NAME/{day.log,truth.json} (11 hours from
# 07:00, 400 mailboxes in 150 domains; all seven scenarios planted unless "healthy"), runs
# `mailtrace report --format json --top 0` on each (exit 1, "problems found", is expected)
# and scores the report with benches/score_findings.py: one table row per day and a total.
# Environment: MAILTRACE (binary to evaluate, default target/release/mailtrace), VERBOSE=1
# (list missed scenarios and false findings).
set -euo pipefail

cd "$(dirname "$0")/.."

lines="${1:-650000}"
bin="${MAILTRACE:-target/release/mailtrace}"
data=bench-data/findings

if [[ ! $lines =~ ^[0-9]+(\.[0-9]+)?[KkMm]?$ ]]; then
    echo "findings_eval.sh: bad line count '$lines' (examples: 650000, 650K, 7M)" >&2
    exit 2
fi
command -v python3 >/dev/null || { echo "findings_eval.sh: python3 is needed" >&2; exit 2; }

echo "== building (release)" >&2
if [[ -z ${MAILTRACE:-} ]]; then
    cargo build --release --quiet --bin mailtrace
fi
cargo build --release --quiet -p mailtrace-synth --example genday
gen=target/release/examples/genday

# name, MTA flags, seed, scenario flags
days=(
    "cpanel-1|--mta exim --cpanel|1|"
    "cpanel-2|--mta exim --cpanel|2|"
    "exim-3|--mta exim|3|"
    "postfix-4|--mta postfix|4|"
    "postfix-5|--mta postfix|5|"
    "cpanel-healthy-6|--mta exim --cpanel|6|--healthy"
    "exim-healthy-7|--mta exim|7|--healthy"
    "postfix-healthy-8|--mta postfix|8|--healthy"
)

verbose=()
[[ ${VERBOSE:-0} == 1 ]] && verbose=(-v)
python3 benches/score_findings.py --header
rows=()
for d in "${days[@]}"; do
    IFS='|' read -r name mta seed extra <<<"$d"
    dir="$data/$name"
    # shellcheck disable=SC2086 # the flags are words
    "$gen" $mta --seed "$seed" --lines "$lines" $extra --out "$dir" 2>/dev/null
    rc=0
    "$bin" report --format json --top 0 --year 2026 "$dir/day.log" >"$dir/report.json" \
        2>"$dir/report.err" || rc=$?
    if [[ $rc != 0 && $rc != 1 ]]; then
        echo "findings_eval.sh: $bin failed on $dir/day.log (exit $rc):" >&2
        head -5 "$dir/report.err" >&2
        exit 1
    fi
    row=$(python3 benches/score_findings.py "${verbose[@]}" --label "$name" \
        "$dir/truth.json" "$dir/report.json")
    echo "$row"
    rows+=("$row")
done

# Total over the days.
printf '%s\n' "${rows[@]}" | awk -F'|' '
    { planted += $3; found += $4; fals += $6; high += $7 }
    END {
        recall = planted ? sprintf("%.0f%%", 100 * found / planted) : "-"
        printf "%-26s | %-12s | %-7d | %-5d | %-6s | %-14d | %d\n",
            "total", "", planted, found, recall, fals, high
    }'
