#!/usr/bin/env bash
# Autobahn|Testsuite (fuzzingclient, cases 1-10, 12 and 13) against pushlab's /echo.
#
# NOT run by CI (.ci/run): it needs Python 2.7 (autobahntestsuite is py2-only,
# Twisted-based) and network access to PyPI on first use. It is kept here so the
# conformance run can be reproduced by hand:
#
#     .ci/autobahn/run.sh
#
# What it does: makes a Python 2.7 virtualenv (pyenv's 2.7.18) with the exact pins
# below, builds pushlab --release, starts it on 127.0.0.1:9001, runs
# `wstest -m fuzzingclient -s .ci/autobahn/fuzzingclient.json`, prints a summary
# per behavior plus every non-OK case, stops the server, and exits non-zero if any
# case's behavior or behaviorClose is FAILED (or wstest itself failed/timed out).
#
# Report: /tmp/autobahn-report (index.html for the browsable one). Loopback only.
# Env overrides: PY27 (a python2.7 binary), AUTOBAHN_VENV (venv dir),
#                AUTOBAHN_TIMEOUT (seconds for wstest, default 1800).
# Last run (2026-12-03, with permessage-deflate): 517 cases, 514 OK, 3 INFORMATIONAL
# (7.1.6, 7.13.1, 7.13.2), 0 FAILED, 0 UNIMPLEMENTED; 12.* and 13.*: 216 of 216 OK;
# 1614 s on a loaded 2-core machine (1-10 alone: ~25 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=.ci/autobahn
ADDR=127.0.0.1:9001
REPORT=/tmp/autobahn-report
VENV=${AUTOBAHN_VENV:-/tmp/pushlab-autobahn-venv}
TIMEOUT=${AUTOBAHN_TIMEOUT:-1800}
PY27=${PY27:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/2.7.18/bin/python}

if [ ! -x "$PY27" ]; then
    echo "need Python 2.7 at $PY27 (e.g. 'pyenv install 2.7.18', or set PY27=)" >&2
    exit 2
fi

# --- Python 2.7 env with the exact set that worked (pip freeze of a working run).
if [ ! -x "$VENV/bin/wstest" ]; then
    echo "--- creating py2.7 virtualenv at $VENV"
    "$PY27" -m virtualenv --version >/dev/null 2>&1 ||
        "$PY27" -m pip install --user -q 'virtualenv==20.15.1'
    "$PY27" -m virtualenv -q "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
        'setuptools==44.0.0' \
        'autobahntestsuite==25.10.1' \
        'autobahn[accelerate,twisted]==0.10.9' \
        'txaio==2.1.0' 'Twisted==19.10.0' 'zope.interface==4.6.0' 'incremental==16.10.1' \
        'constantly==15.1.0' 'Automat==22.10.0' 'attrs==21.4.0' 'hyperlink==21.0.0' \
        'idna==2.10' 'typing==3.10.0.0' 'PyHamcrest==1.10.1' \
        'pyOpenSSL==19.1.0' 'cryptography==3.3.2' 'cffi==1.15.1' 'pycparser==2.21' \
        'enum34==1.1.10' 'ipaddress==1.0.23' 'six==1.16.0' \
        'service-identity==18.1.0' 'pyasn1==0.5.1' 'pyasn1-modules==0.3.0' \
        'klein==17.10.0' 'Werkzeug==1.0.1' 'Jinja2==2.11.3' 'MarkupSafe==1.1.1' \
        'unittest2==1.1.0' 'traceback2==1.4.0' 'linecache2==1.0.0' 'argparse==1.4.0' \
        'wsaccel==0.6.6' 'ujson==2.0.3' \
        2>&1 | grep -v DEPRECATION || true
    "$VENV/bin/wstest" --help >/dev/null 2>&1 || { echo "wstest install failed" >&2; exit 2; }
fi

echo "--- cargo build --release"
cargo build --release

echo "--- starting pushlab on $ADDR"
LOG=$(mktemp /tmp/pushlab-autobahn-server.XXXXXX.log)
./target/release/pushlab --addr "$ADDR" >"$LOG" 2>&1 &
SERVER_PID=$!
stop_server() {
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
}
trap stop_server EXIT
for _ in $(seq 100); do
    grep -q "listening on" "$LOG" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOG" >&2; echo "pushlab exited" >&2; exit 2; }
    sleep 0.1
done

echo "--- wstest -m fuzzingclient (timeout ${TIMEOUT}s)"
rm -rf "$REPORT"
start=$(date +%s)
set +e
timeout "$TIMEOUT" "$VENV/bin/wstest" -m fuzzingclient -s "$HERE/fuzzingclient.json" 2>&1 |
    grep -v DEPRECATION | grep -v '^Running test case ID'
wstest_rc=${PIPESTATUS[0]}
set -e
echo "--- wstest exit $wstest_rc after $(( $(date +%s) - start ))s; server log: $LOG"
stop_server
if [ "$wstest_rc" -ne 0 ] || [ ! -f "$REPORT/index.json" ]; then
    echo "wstest failed or timed out (no $REPORT/index.json)" >&2
    exit 1
fi

# --- summary (python 2.7 is fine for this too); exits 1 if anything FAILED
"$VENV/bin/python" - "$REPORT" <<'PY'
from __future__ import print_function
import collections, json, os, sys
rep = sys.argv[1]
idx = json.load(open(os.path.join(rep, "index.json")))
failed = 0
key = lambda s: [int(x) for x in s.split(".")]
for agent, cases in sorted(idx.items()):
    b = collections.Counter(c["behavior"] for c in cases.values())
    bc = collections.Counter(c["behaviorClose"] for c in cases.values())
    print("agent %s: %d cases" % (agent, len(cases)))
    for k in ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]:
        print("  behavior      %-14s %d" % (k, b.get(k, 0)))
    for k in ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]:
        print("  behaviorClose %-14s %d" % (k, bc.get(k, 0)))
    failed += b.get("FAILED", 0) + bc.get("FAILED", 0)
    for cid in sorted(cases, key=key):
        c = cases[cid]
        if c["behavior"] == "OK" and c["behaviorClose"] == "OK":
            continue
        d = json.load(open(os.path.join(rep, c["reportfile"])))
        print("\n  %s: behavior=%s behaviorClose=%s" % (cid, d["behavior"], d["behaviorClose"]))
        print("    description: %s" % d["description"])
        print("    result:      %s" % d["result"])
        print("    resultClose: %s" % d["resultClose"])
        print("    expected:    %s" % json.dumps(d.get("expected"))[:300])
        print("    received:    %s" % json.dumps(d.get("received"))[:300])
        print("    close codes: local %s remote %s, wasClean %s"
              % (d.get("localCloseCode"), d.get("remoteCloseCode"), d.get("wasClean")))
sys.exit(1 if failed else 0)
PY
