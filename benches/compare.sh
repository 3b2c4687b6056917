#!/usr/bin/env bash
# benches/compare.sh — two servers side by side under pushlab's load tool.
#
#   benches/compare.sh A B SCENARIO [LOAD ARGS…]
#
# A and B are commands that start a server speaking SPEC's routes on 127.0.0.1; every
# occurrence of the word PORT in them is replaced by a free port, fresh for every run. Each
# round starts A, runs `load SCENARIO --addr 127.0.0.1:PORT LOAD ARGS…` against it, stops
# it, then does the same for B (B first in even rounds, so that a drift of the machine
# during the run weighs on both alike). The server is pinned to one core and the load to
# another with `taskset` (skipped, with a warning, where taskset is missing). Then, for each
# figure of the scenario, it prints A's median, B's median, the ratio of the medians and the
# median of the per-round ratios: when the two agree, the noise of the machine did not decide
# the result.
#
# Environment:
#   ROUNDS=5            rounds (each runs A once and B once)
#   SERVER_CPU=0        the core the servers run on
#   LOAD_CPU=1          the core the load runs on
#   METRICS="…"         RESULT keys compared [deliveries_per_s cpu_us_per_delivery;
#                       idle: rss_per_conn_b]
#   LOAD=path           the load tool [target/release/examples/load, built first]
#   OUT=dir             where each run's RESULT line and server log go [target/compare/<time>]
#   TIMEOUT_S=600       a load run that lasts longer is killed
#
# Examples (from the repository's root; see docs/07-performance.md for what each needs):
#
#   # pushlab against itself: two builds (git worktree, or a copy of target/release/pushlab)
#   cp target/release/pushlab /tmp/pushlab-before      # … then change, rebuild
#   benches/compare.sh '/tmp/pushlab-before --addr 127.0.0.1:PORT' \
#                      'target/release/pushlab --addr 127.0.0.1:PORT' ws-fanout --subs 1000
#
#   # pushlab against itself: two flag sets
#   benches/compare.sh 'target/release/pushlab --addr 127.0.0.1:PORT' \
#                      'target/release/pushlab --addr 127.0.0.1:PORT --replay 16' sse-fanout
#
#   # against Nchan (apt-get install nginx libnginx-mod-nchan)
#   benches/compare.sh 'target/release/pushlab --addr 127.0.0.1:PORT' \
#                      'benches/peers/nchan.sh PORT' ws-fanout --subs 1000 --messages 200
#
#   # against Bun (npm install -g bun)
#   benches/compare.sh 'target/release/pushlab --addr 127.0.0.1:PORT' \
#                      'bun benches/peers/bun-server.js PORT' ws-echo --conns 100
#
# The axum + tokio-tungstenite peer of benches/peers.rs cannot be driven this way yet: it
# runs only as that bench's child, on ports it picks itself, with SSE, WebSocket fan-out and
# echo on three different listeners and no /poll or /long-poll (docs/07-performance.md says
# what it would take).
#
# Every run ends by itself: the load gives up on a phase after its --timeout, and a load
# run that outlives TIMEOUT_S (default 600) seconds is killed.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2
    echo "(the header of $0 says more)" >&2
    exit 2
}
[ $# -ge 3 ] || usage
A=$1
B=$2
SCENARIO=$3
shift 3
ROUNDS=${ROUNDS:-5}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
TIMEOUT_S=${TIMEOUT_S:-600}
if [ -z "${METRICS:-}" ]; then
    if [ "$SCENARIO" = idle ]; then METRICS="rss_per_conn_b"; else METRICS="deliveries_per_s cpu_us_per_delivery"; fi
fi
if [ -z "${LOAD:-}" ]; then
    cargo build --release --example load --quiet
    LOAD=target/release/examples/load
fi
OUT=${OUT:-target/compare/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"

# `pin CPU` is the taskset prefix that runs a command on that core (none without taskset).
if command -v taskset >/dev/null 2>&1; then
    pin() { echo "taskset -c $1"; }
else
    echo "compare.sh: warning: taskset not found; server and load are not pinned to cores" >&2
    pin() { :; }
fi

# Whether any socket of this machine uses local port $1 (any state, IPv4 or IPv6).
port_used() {
    local hex
    hex=$(printf '%04X' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{ print $2 }' | grep -q ":$hex\$"
}

# Whether something listens on port $1.
listening() {
    local hex
    hex=$(printf '%04X' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p' | grep -q .
}

# The processes holding the socket that listens on port $1.
holders() {
    local hex inode
    hex=$(printf '%04X' "$1")
    for inode in $(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }'); do
        find /proc/[0-9]*/fd -lname "socket:\[$inode\]" 2>/dev/null | cut -d/ -f3
    done | sort -u
}

# A free port below the ephemeral range (32768–60999), so that no client socket takes it.
free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 12000))
        if ! port_used "$p"; then echo "$p"; return; fi
    done
    echo "compare.sh: no free port found" >&2
    exit 1
}

# Runs one server ($1 label, $2 command) under the load; appends its RESULT line to
# $OUT/$1.results.
run_one() {
    local label=$1 cmd=$2 port pid line log
    shift 2
    port=$(free_port)
    cmd=${cmd//PORT/$port}
    log="$OUT/$label.server.log"
    echo "--- $label: $cmd" >>"$log"
    # A session (and process group) of its own, so that stopping it stops all it started
    # (nginx's workers, a wrapper's children). In a script setsid does not fork; should it
    # have to, -w keeps $! alive, and the check after SIGTERM below still finds the server.
    # shellcheck disable=SC2086 # $(pin …) is words on purpose
    setsid -w $(pin "$SERVER_CPU") bash -c "exec $cmd" >>"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do
        listening "$port" && break
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "compare.sh: $label exited before listening on $port: $cmd (see $log)" >&2
            exit 1
        fi
        sleep 0.05
    done
    if ! listening "$port"; then
        echo "compare.sh: $label not listening on $port after 10 s: $cmd" >&2
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        exit 1
    fi
    # shellcheck disable=SC2086
    line=$($(pin "$LOAD_CPU") timeout "$TIMEOUT_S" "$LOAD" "$SCENARIO" --addr "127.0.0.1:$port" --quiet "$@" \
        2>>"$OUT/$label.load.log" | grep '^RESULT ' || true)
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        if ! kill -0 "$pid" 2>/dev/null && ! listening "$port"; then break; fi
        sleep 0.05
    done
    if listening "$port"; then
        local left
        left=$(holders "$port" | tr '\n' ' ')
        echo "compare.sh: warning: $label still listens on $port 5 s after SIGTERM; killing ${left:-?}" >&2
        [ -n "$left" ] && kill -KILL $left 2>/dev/null
    fi
    if pgrep -g "$pid" >/dev/null 2>&1; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
    if [ -z "$line" ]; then
        echo "compare.sh: $label printed no RESULT (see $OUT/$label.load.log)" >&2
        line="RESULT ok=0"
    fi
    case " $line " in *" ok=1 "*) ;; *) echo "compare.sh: warning: $label's run was not clean: $line" >&2 ;; esac
    echo "$line" >>"$OUT/$label.results"
    printf '  %s: %s\n' "$label" "$(for m in $METRICS; do printf '%s=%s ' "$m" "$(value "$line" "$m")"; done)"
}

# The value of key $2 in RESULT line $1 (empty if absent).
value() {
    tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -n1
}

# The median of the numbers on standard input, one per line.
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; if (NR) printf "%.10g\n", m }'
}

echo "compare.sh: $SCENARIO $*; $ROUNDS rounds; server on CPU $SERVER_CPU, load on CPU $LOAD_CPU"
echo "  A = $A"
echo "  B = $B"
echo "  load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); runs in $OUT"
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round"
    if [ $((round % 2)) -eq 1 ]; then
        run_one A "$A" "$@"
        run_one B "$B" "$@"
    else
        run_one B "$B" "$@"
        run_one A "$A" "$@"
    fi
done
echo "  load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
printf '%-24s %14s %14s %12s %20s\n' "figure" "A median" "B median" "A/B medians" "median A/B per round"
for m in $METRICS; do
    a_vals=$(while read -r l; do value "$l" "$m"; done <"$OUT/A.results")
    b_vals=$(while read -r l; do value "$l" "$m"; done <"$OUT/B.results")
    a_med=$(median <<<"$a_vals")
    b_med=$(median <<<"$b_vals")
    per_round=$(paste <(echo "$a_vals") <(echo "$b_vals") | awk '$1 != "" && $2 != "" && $2 != 0 { print $1 / $2 }' | median)
    ratio=$(awk -v a="$a_med" -v b="$b_med" 'BEGIN { if (b == 0 || b == "nan" || a == "nan") print "nan"; else printf "%.3f", a / b }')
    per_round=$(awk -v r="$per_round" 'BEGIN { if (r == "nan") print r; else printf "%.3f", r }')
    printf '%-24s %14s %14s %12s %20s\n' "$m" "$a_med" "$b_med" "$ratio" "$per_round"
done
echo "(deliveries_per_s: more is better; cpu_us_per_delivery, rss_per_conn_b: less is better)"
