#!/usr/bin/env bash
# benches/peers/nchan.sh PORT — Nchan on 127.0.0.1:PORT with benches/peers/nchan.conf, in the
# foreground, for benches/compare.sh. Needs Debian's nginx and libnginx-mod-nchan
# (`apt-get install nginx-light libnginx-mod-nchan`). Everything nginx writes (its pid, temp
# files) goes to a fresh directory under /tmp, removed when nginx ends; SIGTERM or SIGINT
# stops nginx (a fast shutdown).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 PORT" >&2; exit 2; }
port=$1
prefix=$(mktemp -d /tmp/pushlab-nchan.XXXXXX)
mkdir -p "$prefix/logs"
sed -e "s|@PORT@|$port|g" -e "s|@PREFIX@|$prefix|g" "$(dirname "$0")/nchan.conf" >"$prefix/nginx.conf"
# Every connection is a descriptor: the soft limit up to the hard one (pushlab does the same).
ulimit -n "$(ulimit -Hn)"
nginx -p "$prefix" -c "$prefix/nginx.conf" &
nginx_pid=$!
stop() { kill -TERM "$nginx_pid" 2>/dev/null || true; }
trap stop TERM INT
wait "$nginx_pid" || true
wait "$nginx_pid" 2>/dev/null || true
rm -rf "$prefix"
