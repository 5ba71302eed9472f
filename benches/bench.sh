#!/usr/bin/env bash
# Benchmarks of the mailtrace binary on generated logs (issues 10 and 14).
#
#   benches/bench.sh throughput [SIZE...]   SIZE default: 200M 1G (K, M, G: powers of 1024)
#   benches/bench.sh peers [SIZE...]        SIZE default: 200M
#   benches/bench.sh memory [COUNT...] [MODE[:MTA]...]
#                                           COUNT default: 1M 3M (K, M: thousands, millions)
#   benches/bench.sh all                    throughput, peers and memory with their defaults
#   benches/bench.sh selftest               every subcommand at tiny sizes, in under a minute
#   benches/bench.sh SIZE...                same as throughput SIZE...
#
# throughput: generates a cPanel Exim and a Postfix log of each SIZE with the synth crate's
#   genlog (bench-data/exim-SIZE.log, postfix-SIZE.log) and a rotated set of each made by
#   splitting it in 4 at line boundaries and gzipping the parts (bench-data/*.rot/NAME.N.gz,
#   .4 the oldest); runs `report`, `events` and `trace ADDRESS` on the plain file and on the
#   set, output to /dev/null, and `gzip -dc` of the set as the yardstick of the .gz rows.
#   When xz and zstd are installed, the same set recompressed (NAME.N.xz with `xz -1`,
#   NAME.N.zst with `zstd -3`, made once) gives a `report` row each against `xz -dc` and
#   `zstd -dc` of it.
# peers: on the same plain files, mailtrace `report` and `trace ADDRESS` and, when installed,
#   eximstats, exigrep ADDRESS (Exim) and pflogsumm (Postfix), with the ratio of mailtrace's
#   speed and peak RSS to each (Debian: apt-get install exim4-base pflogsumm).
# memory: adversarial logs from the synth crate's genadv (open-ids, senders, local-senders,
#   auth-domains, failing-rcpts; default combinations below), each at every COUNT: peak RSS of `report`,
#   `trace ADDRESS` and `follow --from-start --poll`. follow never exits on its own: once it
#   has read the file to its end and gone idle it is sent SIGINT, and its seconds are counted
#   up to that point.
#
# Every run is measured with /usr/bin/time -v (wall seconds, maximum resident set size); MB
# is the log's uncompressed size in 10^6 bytes. A watchdog kills a run whose RSS passes
# LIMIT_MB (default 12288) and reports it as ">LIMIT". If hyperfine is installed, throughput
# and peers also print its mean and spread over RUNS runs. Each subcommand prints a table
# `| input | MB | seconds | MB/s | peak RSS MiB | vs peer |` with nproc and the load average,
# and appends its rows to bench-data/results-YYYY-MM-DD.tsv (bench-data/ is not tracked).
# The machine is shared: the load average shows how noisy the figures are.
#
# Environment: PROFILE (release, or debug; selftest defaults to debug), SEED (generator seed,
# default 1), RUNS (hyperfine runs, default 3), LIMIT_MB, FOLLOW_TIMEOUT (seconds, default
# 300: follow is stopped then and its rate is of the bytes read), DATA (default bench-data),
# KEEP=1 (keep the adversarial logs; by default each is removed once measured).
set -euo pipefail

cd "$(dirname "$0")/.."

seed="${SEED:-1}"
runs="${RUNS:-3}"
limit_mb="${LIMIT_MB:-12288}"
follow_timeout="${FOLLOW_TIMEOUT:-300}"
data="${DATA:-bench-data}"
keep="${KEEP:-0}"
profile="${PROFILE:-release}"

# Seconds between two looks at a running command (RSS watchdog, follow's progress), and
# how many looks in a row follow must be idle at the end of its file to count as done.
poll=0.1
idle_polls=4

# Adversarial combinations measured by `memory` when none is named.
default_combos=(open-ids:exim open-ids:postfix senders:exim senders:postfix
    local-senders:exim auth-domains:exim failing-rcpts:exim failing-rcpts:postfix)

die() {
    echo "bench.sh: $*" >&2
    exit 2
}

usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
}

# ---------------------------------------------------------------------------------------------
# Building and generating

build() {
    local flag=() dir=debug
    if [[ $profile == release ]]; then
        flag=(--release)
        dir=release
    elif [[ $profile != debug ]]; then
        die "PROFILE must be release or debug, not '$profile'"
    fi
    echo "== building ($profile)" >&2
    cargo build "${flag[@]}" --quiet --bin mailtrace
    cargo build "${flag[@]}" --quiet -p mailtrace-synth --example genlog --example genadv
    bin="target/$dir/mailtrace"
    genlog="target/$dir/examples/genlog"
    genadv="target/$dir/examples/genadv"
}

# A SIZE argument of genlog (200M, 1G, 2.5M).
check_size() {
    [[ $1 =~ ^[0-9]+(\.[0-9]+)?[KkMmGg]?$ ]] || die "bad size '$1' (examples: 200M, 1G)"
}

# A COUNT argument of genadv (1M, 300K, 5000).
check_count() {
    [[ $1 =~ ^[0-9]+(\.[0-9]+)?[KkMm]?$ ]] || die "bad count '$1' (examples: 1M, 300K)"
}

# The generated log of MTA at SIZE, made if missing; prints its path.
plain_log() {
    local mta=$1 size=$2 suffix="" extra=()
    [[ $seed != 1 ]] && suffix="-s$seed"
    local f="$data/$mta-$size$suffix.log"
    if [[ ! -s $f ]]; then
        [[ $mta == exim ]] && extra=(--cpanel)
        echo "== generating $f" >&2
        "$genlog" --mta "$mta" --bytes "$size" --seed "$seed" "${extra[@]}" \
            --out "$f.part" --truth "${f%.log}.truth.json" >&2
        mv "$f.part" "$f"
    fi
    echo "$f"
}

# The rotated set of plain log F: 4 parts split at line boundaries, gzipped, `.4.gz` the
# oldest; made if missing. Prints the directory.
rotated_set() {
    local f=$1 name dir
    name=$(basename "$f")
    dir="${f%.log}.rot"
    if [[ ! -s $dir/$name.1.gz ]]; then
        echo "== making the rotated set $dir" >&2
        rm -rf "$dir.part"
        mkdir -p "$dir.part"
        split -n l/4 -d -a 1 "$f" "$dir.part/part"
        local i n
        for i in 0 1 2 3; do
            n=$((4 - i))
            gzip -c "$dir.part/part$i" >"$dir.part/$name.$n.gz" &
        done
        wait
        rm -f "$dir.part"/part?
        rm -rf "$dir"
        mv "$dir.part" "$dir"
    fi
    echo "$dir"
}

# The adversarial log of MODE, MTA and COUNT (made, never cached); prints its path.
adversarial_log() {
    local mode=$1 mta=$2 count=$3
    local f="$data/adv-$mode-$mta-$count.log"
    echo "== generating $f" >&2
    "$genadv" "$mode" --mta "$mta" --count "$count" --seed "$seed" --out "$f.part" >&2
    mv "$f.part" "$f"
    echo "$f"
}

# An envelope sender of the first message of log F (Exim or Postfix, plain or gzip).
some_address() {
    local a
    a=$({ zcat -f "$1" | head -n 2000 | sed -n \
        -e 's/^[0-9-]* [0-9:]* [^ ]* <= \([^ <>]*@[^ ]*\) .*/\1/p' \
        -e 's/.* from=<\([^>]*@[^>]*\)>.*/\1/p' | head -n 1; } || true)
    [[ -n $a ]] || die "no sender address in the first lines of $1"
    echo "$a"
}

# ---------------------------------------------------------------------------------------------
# Measuring

# Sum of user and system clock ticks of process PID (0 once it is gone).
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
        echo 0
        return
    }
    stat=${stat##*) }
    set -- $stat
    echo $((${12} + ${13}))
}

# The read offset of process PID in file F (-1 when it has no descriptor on it).
read_offset() {
    local pid=$1 target fd
    target=$(readlink -f "$2")
    for fd in /proc/"$pid"/fd/*; do
        if [[ $(readlink "$fd" 2>/dev/null) == "$target" ]]; then
            sed -n 's/^pos:[[:space:]]*//p' "/proc/$pid/fdinfo/${fd##*/}" 2>/dev/null
            return
        fi
    done
    echo -1
}

# How far process PID has read FILE: the offset of its descriptor of FILE or, if larger, the
# bytes it has read at all (/proc/PID/io rchar). The follower reads with pread, which leaves
# the offset at 0, so the offset alone never reaches the end; rchar counts those reads (and a
# little more: the few other files a process reads).
read_progress() {
    local pos rchar
    pos=$(read_offset "$1" "$2")
    pos=${pos:--1}
    rchar=$(sed -n 's/^rchar:[[:space:]]*//p' "/proc/$1/io" 2>/dev/null)
    rchar=${rchar:-0}
    if ((rchar > pos)); then echo "$rchar"; else echo "$pos"; fi
}

# Seconds since EPOCHREALTIME value T0, less SUB.
since() {
    awk -v a="$1" -v b="$EPOCHREALTIME" -v c="${2:-0}" 'BEGIN { printf "%.2f", b - a - c }'
}

# Stops process PID: SIGINT, then SIGKILL 10 s later if it is still there. Sets killer.
stop_gently() {
    kill -INT "$1" 2>/dev/null || true
    (sleep 10 && kill -KILL "$1" 2>/dev/null) &
    killer=$!
}

# One look at follow (process PID) reading FOLLOW_FILE: stops it once it is at the end of the
# file and idle (sets stopped to its seconds), or when FOLLOW_TIMEOUT has passed (also sets
# timed_out and read_bytes). Uses and updates last and idle of measure.
watch_follow() {
    local pid=$1 t0=$2 pos size ticks
    pos=$(read_progress "$pid" "$FOLLOW_FILE")
    size=$(stat -c %s "$FOLLOW_FILE")
    if ((pos >= size)); then
        ticks=$(cpu_ticks "$pid")
        if ((ticks - last <= 2)); then idle=$((idle + 1)); else idle=0; fi
        last=$ticks
        if ((idle >= idle_polls)); then
            stopped=$(since "$t0" "$(awk -v w="$poll" -v n="$idle_polls" 'BEGIN { print w * n }')")
            stop_gently "$pid"
        fi
    elif awk -v a="$(since "$t0")" -v m="$follow_timeout" 'BEGIN { exit !(a > m) }'; then
        stopped=$(since "$t0")
        timed_out=1
        read_bytes=$pos
        stop_gently "$pid"
    fi
}

# Runs COMMAND... under /usr/bin/time -v with output to /dev/null, watching its RSS (killed
# past LIMIT_MB). With FOLLOW_FILE set, the command is stopped with SIGINT once it has read
# that file to its end and its CPU time has stopped growing, or after FOLLOW_TIMEOUT seconds.
# Sets M_SECS, M_RSS (MiB), M_STATUS (ok, timeout, ">LIMIT MiB" or "exit N"), M_READ (bytes
# read by a follow that timed out) and M_NOTE. Exit 1 counts as success (report: problems
# found; exigrep: no match).
measure() {
    local tfile efile
    tfile=$(mktemp)
    efile=$(mktemp)
    local t0=$EPOCHREALTIME
    /usr/bin/time -v -o "$tfile" "$@" >/dev/null 2>"$efile" &
    local tpid=$! cpid="" over=0 stopped="" timed_out=0 read_bytes="" last=-1 idle=0 killer=""
    local limit_kb=$((limit_mb * 1024))
    while kill -0 "$tpid" 2>/dev/null; do
        sleep "$poll"
        [[ -z $cpid ]] && cpid=$(pgrep -P "$tpid" | head -n 1 || true)
        [[ -z $cpid ]] && continue
        local k v rss=0
        while read -r k v _; do
            [[ $k == VmRSS: ]] && rss=$v
        done 2>/dev/null <"/proc/$cpid/status" || true
        if ((rss > limit_kb)); then
            over=1
            kill -KILL "$cpid" 2>/dev/null || true
        fi
        if [[ -n ${FOLLOW_FILE:-} && -z $stopped ]]; then
            watch_follow "$cpid" "$t0"
        fi
    done
    local rc=0
    wait "$tpid" || rc=$?
    [[ -z $killer ]] || kill "$killer" 2>/dev/null || true
    measure_result "$tfile" "$efile" "$rc"
}

# Sets the M_ variables of measure from /usr/bin/time's report TFILE, the command's stderr
# EFILE and its exit status RC (and measure's over, stopped, timed_out, read_bytes).
measure_result() {
    local tfile=$1 efile=$2 rc=$3 elapsed rss_kb
    elapsed=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tfile")
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tfile")
    M_SECS=$(awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }' <<<"${elapsed:-0}")
    M_RSS=$(((${rss_kb:-0} + 512) / 1024))
    M_NOTE=""
    M_READ=""
    if ((over)); then
        M_STATUS=">${limit_mb} MiB"
        M_RSS=">$limit_mb"
    elif ((timed_out)); then
        M_STATUS=timeout
        M_SECS=$stopped
        M_READ=$read_bytes
        M_NOTE="stopped by SIGINT after ${follow_timeout} s, $((read_bytes / 1000000)) MB read"
    elif [[ -n $stopped ]]; then
        M_STATUS=ok
        M_SECS=$stopped
        M_NOTE="stopped by SIGINT once the file was read"
    elif [[ $rc == 0 || $rc == 1 ]]; then
        M_STATUS=ok
    else
        M_STATUS="exit $rc"
        grep -v -E '^\s' "$efile" | head -n 3 >&2 || true
    fi
    rm -f "$tfile" "$efile"
}

# Mean and spread from hyperfine, when it is installed (throughput and peers only).
hyperfine_line() {
    command -v hyperfine >/dev/null 2>&1 || return 0
    ((${#} > 0)) || return 0
    hyperfine --warmup 1 --runs "$runs" --style basic --output null "$*" 2>&1 |
        grep -E 'Time \(mean' | sed 's/^/    hyperfine: /' >&2 || true
}

# ---------------------------------------------------------------------------------------------
# Results

rows=()
tsv=""
load_now() { cut -d' ' -f1-3 /proc/loadavg; }

# Starts a table for subcommand NAME.
table_start() {
    section=$1
    rows=()
    mkdir -p "$data"
    tsv="$data/results-$(date +%F).tsv"
    if [[ ! -s $tsv ]]; then
        printf 'time\tsubcommand\tinput\tMB\tseconds\tMB/s\tpeak_rss_mib\tvs_peer\tstatus\tnproc\tload1\tnote\n' >"$tsv"
    fi
    section_start=$EPOCHREALTIME
    echo "== $section: nproc $(nproc), load average $(load_now)" >&2
}

# MB/s of BYTES in SECONDS.
rate() {
    awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", b / 1e6 / s; else print "-" }'
}

# Records the last measurement as INPUT (BYTES long) with VS_PEER; prints it at once.
record() {
    local input=$1 bytes=$2 vs=${3:--}
    local mb mbs
    mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
    mbs=$(rate "${M_READ:-$bytes}" "$M_SECS")
    [[ $M_STATUS == ok || $M_STATUS == timeout ]] || mbs="-"
    [[ $M_STATUS == timeout ]] && vs="timeout: $((M_READ * 100 / bytes))% read in ${M_SECS} s"
    local note="$M_NOTE"
    [[ $M_STATUS == ok ]] || note="$M_STATUS${note:+; $note}"
    local row="| $input | $mb | $M_SECS | $mbs | $M_RSS | $vs |"
    rows+=("$row")
    echo "   $row${note:+ ($note)}" >&2
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date +%FT%T)" "$section" \
        "$input" "$mb" "$M_SECS" "$mbs" "$M_RSS" "$vs" "$M_STATUS" "$(nproc)" \
        "$(cut -d' ' -f1 /proc/loadavg)" "$note" >>"$tsv"
    [[ $M_STATUS == ok || $M_STATUS == timeout || $M_STATUS == ">"* ]] || failed=1
}

# Prints the table of the current subcommand.
table_end() {
    local took
    took=$(awk -v a="$section_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
    echo
    echo "### $section ($(date '+%F %T'), nproc $(nproc), load average $(load_now), ${took} s)"
    echo
    echo "| input | MB | seconds | MB/s | peak RSS MiB | vs peer |"
    echo "|---|---:|---:|---:|---:|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "(rows also in $tsv; shared machine: figures are noisy)"
}

# Speed and peak RSS of mailtrace (seconds S1, RSS R1) relative to a peer's (S2, R2):
# "mailtrace speed 3.1×, RSS 0.50×" (speed above 1: mailtrace is faster).
ratio() {
    awk -v s1="$1" -v r1="$2" -v s2="$3" -v r2="$4" 'BEGIN {
        if (s1 <= 0 || s2 <= 0 || r2 <= 0) { print "-"; exit }
        printf "mailtrace speed %.2f×, RSS %.2f×", s2 / s1, r1 / r2 }'
}

# ---------------------------------------------------------------------------------------------
# Subcommands

throughput() {
    local sizes=("$@")
    ((${#sizes[@]})) || sizes=(200M 1G)
    local s
    for s in "${sizes[@]}"; do check_size "$s"; done
    table_start "throughput ${sizes[*]}"
    local size mta
    for size in "${sizes[@]}"; do
        for mta in exim postfix; do
            throughput_one "$(plain_log "$mta" "$size")"
        done
    done
    table_end
}

# The throughput rows of plain log F and of its rotated set.
throughput_one() {
    local f=$1 bytes addr dir name cmd
    bytes=$(stat -c %s "$f")
    addr=$(some_address "$f")
    name=$(basename "$f")
    for cmd in report events; do
        hyperfine_line "$bin" "$cmd" "$f"
        measure "$bin" "$cmd" "$f"
        record "$cmd $name" "$bytes"
    done
    hyperfine_line "$bin" trace "$addr" "$f"
    measure "$bin" trace "$addr" "$f"
    record "trace ADDR $name" "$bytes"
    dir=$(rotated_set "$f")
    local set=("$dir"/*.gz) gz_secs
    measure gzip -dc "${set[@]}"
    record "gzip -dc $name.{1..4}.gz" "$bytes"
    gz_secs=$M_SECS
    for cmd in report events; do
        measure "$bin" "$cmd" "${set[@]}"
        record "$cmd $name.{1..4}.gz" "$bytes" "$(gz_ratio "$gz_secs")"
    done
    measure "$bin" trace "$addr" "${set[@]}"
    record "trace ADDR $name.{1..4}.gz" "$bytes" "$(gz_ratio "$gz_secs")"
    local tool ext
    for tool in xz zstd; do
        command -v "$tool" >/dev/null || continue
        ext=$([[ $tool == xz ]] && echo xz || echo zst)
        local other=()
        mapfile -t other < <(recompressed_set "$dir" "$tool" "$ext")
        measure "$tool" -dc "${other[@]}"
        record "$tool -dc $name.{1..4}.$ext" "$bytes"
        gz_secs=$M_SECS
        measure "$bin" report "${other[@]}"
        record "report $name.{1..4}.$ext" "$bytes" "$(gz_ratio "$gz_secs" | sed "s/gzip/$tool/")"
    done
}

# The .gz files of rotated set DIR recompressed with TOOL (xz or zstd) to suffix EXT, made
# if missing; prints their paths, oldest first.
recompressed_set() {
    local dir=$1 tool=$2 ext=$3 gz out level
    level=$([[ $tool == xz ]] && echo -1 || echo -3)
    for gz in "$dir"/*.4.gz "$dir"/*.3.gz "$dir"/*.2.gz "$dir"/*.1.gz; do
        out="${gz%.gz}.$ext"
        if [[ ! -s $out ]]; then
            echo "== making $out" >&2
            gzip -dc "$gz" | "$tool" "$level" -c >"$out.part"
            mv "$out.part" "$out"
        fi
        echo "$out"
    done
}

# The last measurement's speed against `gzip -dc` taking GZ_SECS.
gz_ratio() {
    awk -v a="$M_SECS" -v g="$1" 'BEGIN { if (a > 0 && g > 0) printf "speed %.2f× gzip -dc", g / a; else print "-" }'
}

peers() {
    local sizes=("$@")
    ((${#sizes[@]})) || sizes=(200M)
    local s
    for s in "${sizes[@]}"; do check_size "$s"; done
    table_start "peers ${sizes[*]}"
    local size
    for size in "${sizes[@]}"; do
        peers_exim "$(plain_log exim "$size")"
        peers_postfix "$(plain_log postfix "$size")"
    done
    table_end
}

# Runs the peer PROG (if installed) with ARGS on F, recorded against mailtrace's S1 and R1.
peer_row() {
    local label=$1 bytes=$2 s1=$3 r1=$4 prog=$5
    shift 5
    local path
    path=$(command -v "$prog" 2>/dev/null || true)
    [[ -z $path && -x /usr/sbin/$prog ]] && path=/usr/sbin/$prog
    if [[ -z $path ]]; then
        echo "   $prog: not installed, skipped (Debian: apt-get install exim4-base pflogsumm)" >&2
        rows+=("| $label | - | - | - | - | $prog not installed, skipped |")
        return
    fi
    hyperfine_line "$path" "$@"
    measure "$path" "$@"
    record "$label" "$bytes" "$(ratio "$s1" "$r1" "$M_SECS" "$M_RSS")"
}

peers_exim() {
    local f=$1 bytes addr name s1 r1
    bytes=$(stat -c %s "$f")
    addr=$(some_address "$f")
    name=$(basename "$f")
    measure "$bin" report "$f"
    record "mailtrace report $name" "$bytes"
    s1=$M_SECS r1=$M_RSS
    peer_row "eximstats $name" "$bytes" "$s1" "$r1" eximstats "$f"
    measure "$bin" trace "$addr" "$f"
    record "mailtrace trace ADDR $name" "$bytes"
    s1=$M_SECS r1=$M_RSS
    peer_row "exigrep ADDR $name" "$bytes" "$s1" "$r1" exigrep "$addr" "$f"
}

peers_postfix() {
    local f=$1 bytes name s1 r1
    bytes=$(stat -c %s "$f")
    name=$(basename "$f")
    measure "$bin" report "$f"
    record "mailtrace report $name" "$bytes"
    s1=$M_SECS r1=$M_RSS
    peer_row "pflogsumm $name" "$bytes" "$s1" "$r1" pflogsumm "$f"
}

memory() {
    local counts=() combos=() a
    for a in "$@"; do
        if [[ $a =~ ^[0-9] ]]; then
            check_count "$a"
            counts+=("$a")
        else
            combos+=("$a")
        fi
    done
    ((${#counts[@]})) || counts=(1M 3M)
    ((${#combos[@]})) || combos=("${default_combos[@]}")
    table_start "memory ${counts[*]}"
    local combo count mode mta
    for combo in "${combos[@]}"; do
        mode=${combo%%:*}
        mta=exim
        [[ $combo == *:* ]] && mta=${combo#*:}
        [[ $mode =~ ^(open-ids|senders|local-senders|auth-domains|failing-rcpts)$ ]] || die "unknown mode '$mode'"
        [[ $mta =~ ^(exim|postfix)$ ]] || die "unknown MTA '$mta'"
        for count in "${counts[@]}"; do
            memory_one "$mode" "$mta" "$count"
        done
    done
    table_end
}

# The memory rows of one adversarial log: report, trace, follow.
memory_one() {
    local mode=$1 mta=$2 count=$3 f bytes addr label
    mkdir -p "$data"
    f=$(adversarial_log "$mode" "$mta" "$count")
    bytes=$(stat -c %s "$f")
    addr=$(some_address "$f")
    label="$mode $mta $count"
    measure "$bin" report "$f"
    record "report $label" "$bytes"
    measure "$bin" trace "$addr" "$f"
    record "trace ADDR $label" "$bytes"
    FOLLOW_FILE=$f measure "$bin" follow --from-start --poll --poll-interval 200 "$f"
    record "follow $label" "$bytes" "${M_NOTE:+stopped by SIGINT at EOF}"
    [[ $keep == 1 ]] || rm -f "$f"
}

# Every subcommand at tiny sizes, into a data folder of its own; fails if a run fails, if a
# table is missing or if the runs take a minute or more (building not counted).
selftest() {
    data="$data/selftest"
    rm -rf "$data"
    mkdir -p "$data"
    local out="$data/selftest.out" t0 took
    t0=$EPOCHREALTIME
    throughput 128K >"$out"
    peers 128K >>"$out"
    memory 300 600 >>"$out"
    took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
    cat "$out"
    local want n
    for want in "### throughput" "### peers" "### memory"; do
        grep -q "^$want" "$out" || die "selftest: no table from ${want#\#\#\# }"
    done
    n=$(grep -c '^| ' "$out")
    ((n >= 40)) || die "selftest: only $n table rows"
    ((failed == 0)) || die "selftest: a run failed"
    ((took < 60)) || die "selftest: took ${took} s (limit 60)"
    echo "selftest: ok, $n rows in ${took} s (building not counted)"
}

# ---------------------------------------------------------------------------------------------

[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed (Debian/Ubuntu package: time)"
failed=0
sub="${1:-}"
[[ $# -gt 0 ]] && shift
case "$sub" in
    throughput | peers | memory | all)
        build
        mkdir -p "$data"
        case "$sub" in
            all)
                throughput
                peers
                memory
                ;;
            *) "$sub" "$@" ;;
        esac
        ;;
    [0-9]*)
        # `bench.sh 1G`, the form of earlier versions: throughput at those sizes.
        build
        throughput "$sub" "$@"
        ;;
    selftest)
        profile="${PROFILE:-debug}"
        build
        selftest
        ;;
    -h | --help | help | "")
        usage
        [[ -n $sub ]] || exit 2
        ;;
    *)
        usage >&2
        die "unknown subcommand '$sub'"
        ;;
esac
exit "$failed"
