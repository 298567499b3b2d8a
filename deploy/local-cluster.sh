#!/usr/bin/env bash
# A Bridgechat cluster on this machine, from Debian's packages: one redis-server
# (no persistence), one PostgreSQL, N nodes and nginx in front, all on 127.0.0.1.
#
#   deploy/local-cluster.sh start [N]   # N nodes (default 3); members use the proxy URL
#   deploy/local-cluster.sh status
#   deploy/local-cluster.sh stop        # stops everything; keeps the database and logs
#   deploy/local-cluster.sh clean       # stop, then delete the state directory
#
# For trying the cluster out and for tests, not for production: PostgreSQL
# trusts every connection from 127.0.0.1 (deploy/compose.yaml and
# deploy/bridgechat.service are the production shapes).
#
# Environment (all optional):
#   BRIDGECHAT_CLUSTER_DIR  state: pid files, logs, database   (./cluster-state)
#   PROXY_PORT              the port members use                (8080)
#   NODE_PORT_BASE          node i listens on NODE_PORT_BASE+i-1 (8081)
#   REDIS_PORT, PG_PORT     (6390, 5440)
#   PYTHON                  the interpreter with bridgechat installed (.venv's if any)
#   NODE_ARGS               extra flags for every node, e.g. "--grace-period 20"
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${BRIDGECHAT_CLUSTER_DIR:-$PWD/cluster-state}"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
PROXY_PORT="${PROXY_PORT:-8080}"
NODE_PORT_BASE="${NODE_PORT_BASE:-8081}"
REDIS_PORT="${REDIS_PORT:-6390}"
PG_PORT="${PG_PORT:-5440}"
NODE_ARGS="${NODE_ARGS:-}"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
WAIT=30  # seconds any one service may take to come up or go down

say() { printf '%s\n' "$*"; }
die() { printf 'local-cluster: %s\n' "$*" >&2; exit 1; }

running() {  # running PID: alive and not a zombie waiting to be reaped
  kill -0 "$1" 2>/dev/null || return 1
  case "$(ps -o stat= -p "$1" 2>/dev/null || true)" in Z*) return 1 ;; esac
}

alive() {  # alive PIDFILE: the process named in it is running
  [ -s "$1" ] && running "$(cat "$1")"
}

http_status() {  # http_status URL: the status code, or 000 when nothing answers
  "$PYTHON" - "$1" <<'EOF'
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except OSError:
    print("000")
EOF
}

wait_http() {  # wait_http URL WHAT PIDFILE LOG: until URL answers 200, bounded
  local i
  for ((i = 0; i < WAIT * 10; i++)); do
    [ "$(http_status "$1")" = 200 ] && return 0
    if [ -n "$3" ] && ! alive "$3"; then
      tail -n 30 "$4" >&2 || true
      die "$2 exited during start (log: $4)"
    fi
    sleep 0.1
  done
  tail -n 30 "$4" >&2 || true
  die "$2 did not answer $1 within $WAIT s (log: $4)"
}

stop_pid() {  # stop_pid PIDFILE NAME: SIGTERM, wait, then SIGKILL; bounded
  local pid i
  if alive "$1"; then
    pid="$(cat "$1")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < WAIT * 10; i++)); do
      running "$pid" || break
      sleep 0.1
    done
    if running "$pid"; then
      say "$2 did not stop in $WAIT s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    say "stopped $2"
  fi
  rm -f "$1"
}

# -- PostgreSQL ---------------------------------------------------------------
# As root, PostgreSQL must run as the postgres user (initdb refuses root). That
# user may not be able to enter $STATE (say, under /root), so its data then
# lives in a directory of its own under /tmp, recorded in $STATE/pg.dir.

pg_bindir() {
  local d
  d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  [ -n "$d" ] && [ -x "$d/initdb" ] || d="$(dirname "$(command -v initdb 2>/dev/null || echo /x/none)")"
  [ -x "$d/initdb" ] || die "PostgreSQL is not installed (apt-get install postgresql)"
  printf '%s' "$d"
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_dir() {
  if [ -s "$STATE/pg.dir" ]; then cat "$STATE/pg.dir"; return; fi
  local d="$STATE/pg"
  if [ "$(id -u)" = 0 ]; then
    if ! runuser -u postgres -- test -x "$STATE"; then
      d="$(mktemp -d /tmp/bridgechat-pg.XXXXXX)"
    fi
    mkdir -p "$d"
    chown postgres: "$d"
  fi
  mkdir -p "$d"
  printf '%s' "$d" >"$STATE/pg.dir"
  printf '%s' "$d"
}

start_postgres() {
  local bin dir
  bin="$(pg_bindir)"
  dir="$(pg_dir)"
  if [ -s "$dir/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null; then
    say "postgresql already running on $PG_PORT"
    return
  fi
  if [ ! -s "$dir/data/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$dir/data" -U bridgechat --auth=trust -E UTF8 --locale=C \
      >"$STATE/initdb.log" 2>&1 || { cat "$STATE/initdb.log" >&2; die "initdb failed"; }
  fi
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t "$WAIT" \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$dir" \
    start >/dev/null || { tail -n 30 "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
  # The database itself, once; an existing one is kept across stop and start.
  if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U bridgechat -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'bridgechat'" | grep -q 1; then
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U bridgechat bridgechat
  fi
  ln -sf "$dir/postgres.log" "$STATE/postgres.log"
  say "postgresql on 127.0.0.1:$PG_PORT (data: $dir/data)"
}

stop_postgres() {
  [ -s "$STATE/pg.dir" ] || return 0
  local bin dir
  bin="$(pg_bindir)"
  dir="$(cat "$STATE/pg.dir")"
  if [ -s "$dir/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t "$WAIT" stop >/dev/null \
      || as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t "$WAIT" stop >/dev/null || true
    say "stopped postgresql"
  fi
}

# -- Redis --------------------------------------------------------------------

start_redis() {
  command -v redis-server >/dev/null || die "redis-server is not installed (apt-get install redis-server)"
  if alive "$STATE/redis.pid"; then say "redis already running on $REDIS_PORT"; return; fi
  mkdir -p "$STATE/redis"
  # Persistence off: what Redis holds (waiting tickets, room history) is meant to
  # live in RAM only and vanish with it (docs/privacy.md, "The inventory").
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --daemonize yes --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" \
    --dir "$STATE/redis"
  local i
  for ((i = 0; i < WAIT * 10; i++)); do
    [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null || true)" = PONG ] && break
    sleep 0.1
  done
  [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null || true)" = PONG ] \
    || { tail -n 30 "$STATE/redis.log" >&2; die "redis did not start"; }
  say "redis on 127.0.0.1:$REDIS_PORT"
}

# -- nodes ----------------------------------------------------------------------

report_key() {
  # Every node must seal reports with the same key, or a report made on one
  # node could not be read on another.
  if [ ! -s "$STATE/report.key" ]; then
    (umask 077 && "$PYTHON" -c \
      'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())' \
      >"$STATE/report.key")
  fi
  cat "$STATE/report.key"
}

start_nodes() {
  local n="$1" i port key
  key="$(report_key)"
  for ((i = 1; i <= n; i++)); do
    port=$((NODE_PORT_BASE + i - 1))
    if alive "$STATE/node$i.pid"; then say "node$i already running on $port"; continue; fi
    mkdir -p "$STATE/node$i"
    # shellcheck disable=SC2086  # NODE_ARGS is a list of flags
    (cd "$ROOT" && BRIDGECHAT_REPORT_KEY="$key" PYTHONUNBUFFERED=1 exec "$PYTHON" -m bridgechat serve \
      --host 127.0.0.1 --port "$port" --data-dir "$STATE/node$i" \
      --redis "redis://127.0.0.1:$REDIS_PORT/0" \
      --database "postgresql://bridgechat@127.0.0.1:$PG_PORT/bridgechat" \
      --public-url "http://127.0.0.1:$PROXY_PORT" --trusted-proxy 127.0.0.1 $NODE_ARGS \
      >>"$STATE/node$i.log" 2>&1 </dev/null) &
    echo $! >"$STATE/node$i.pid"
  done
  for ((i = 1; i <= n; i++)); do
    port=$((NODE_PORT_BASE + i - 1))
    wait_http "http://127.0.0.1:$port/healthz" "node$i" "$STATE/node$i.pid" "$STATE/node$i.log"
    say "node$i on 127.0.0.1:$port"
  done
}

# -- nginx ----------------------------------------------------------------------

nginx_conf() {
  local n="$1" i
  mkdir -p "$STATE/nginx/tmp"
  {
    echo "# Written by deploy/local-cluster.sh; deploy/nginx.conf is the same proxy for compose."
    [ "$(id -u)" = 0 ] && echo "user nobody nogroup;"
    cat <<EOF
worker_processes 1;
pid $STATE/nginx.pid;
error_log $STATE/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;  # addresses are never stored, and the nodes log requests without them
  client_body_temp_path $STATE/nginx/tmp/body;
  proxy_temp_path $STATE/nginx/tmp/proxy;
  fastcgi_temp_path $STATE/nginx/tmp/fastcgi;
  uwsgi_temp_path $STATE/nginx/tmp/uwsgi;
  scgi_temp_path $STATE/nginx/tmp/scgi;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; }
  upstream bridgechat {
EOF
    for ((i = 1; i <= n; i++)); do
      echo "    server 127.0.0.1:$((NODE_PORT_BASE + i - 1)) max_fails=1 fail_timeout=5s;"
    done
    cat <<EOF
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$PROXY_PORT;
    client_max_body_size 64k;
    location / {
      proxy_pass http://bridgechat;
      proxy_http_version 1.1;
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_buffering off;
      proxy_next_upstream error timeout;
    }
  }
}
EOF
  } >"$STATE/nginx.conf"
}

start_nginx() {
  local n="$1" bin
  bin="$(command -v nginx || echo /usr/sbin/nginx)"
  if [ ! -x "$bin" ]; then
    [ "$(id -u)" = 0 ] || die "nginx is not installed (apt-get install nginx)"
    say "installing nginx (apt-get install nginx-light, else nginx)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null \
      || die "could not install nginx"
    bin="$(command -v nginx || echo /usr/sbin/nginx)"
  fi
  nginx_conf "$n"
  if alive "$STATE/nginx.pid"; then
    "$bin" -p "$STATE/nginx" -c "$STATE/nginx.conf" -e "$STATE/nginx-error.log" -s reload
    say "nginx reloaded on 127.0.0.1:$PROXY_PORT"
    return
  fi
  "$bin" -p "$STATE/nginx" -c "$STATE/nginx.conf" -e "$STATE/nginx-error.log" \
    || { tail -n 30 "$STATE/nginx-error.log" >&2; die "nginx did not start"; }
  wait_http "http://127.0.0.1:$PROXY_PORT/healthz" nginx "$STATE/nginx.pid" "$STATE/nginx-error.log"
  say "nginx on 127.0.0.1:$PROXY_PORT"
}

# -- commands -------------------------------------------------------------------

cmd_start() {
  local n="${1:-3}"
  [[ "$n" =~ ^[1-9][0-9]?$ ]] || die "start N: N is a number of nodes from 1 to 99"
  # Whatever fails half-way (die exits), leave nothing running behind.
  trap 'say "start failed; stopping what did start" >&2; cmd_stop >&2' EXIT
  start_redis
  start_postgres
  start_nodes "$n"
  start_nginx "$n"
  trap - EXIT
  say "Bridgechat cluster of $n nodes: open http://127.0.0.1:$PROXY_PORT/ (state: $STATE)"
}

cmd_stop() {
  local f
  # The proxy first, so no new connection reaches a node that is going away.
  stop_pid "$STATE/nginx.pid" nginx
  for f in "$STATE"/node*.pid; do
    [ -e "$f" ] || continue
    stop_pid "$f" "$(basename "$f" .pid)"
  done
  stop_pid "$STATE/redis.pid" redis
  stop_postgres
}

cmd_status() {
  local f name port code ready
  if alive "$STATE/redis.pid"; then say "redis      up    127.0.0.1:$REDIS_PORT"; else say "redis      down"; fi
  if [ -s "$STATE/pg.dir" ] && [ -s "$(cat "$STATE/pg.dir")/data/postmaster.pid" ]; then
    say "postgresql up    127.0.0.1:$PG_PORT"
  else
    say "postgresql down"
  fi
  for f in "$STATE"/node*.pid; do
    [ -e "$f" ] || continue
    name="$(basename "$f" .pid)"
    port=$((NODE_PORT_BASE + ${name#node} - 1))
    if alive "$f"; then
      code="$(http_status "http://127.0.0.1:$port/healthz")"
      ready="$(http_status "http://127.0.0.1:$port/readyz")"
      say "$name      up    127.0.0.1:$port  healthz $code  readyz $ready"
    else
      say "$name      down"
    fi
  done
  if alive "$STATE/nginx.pid"; then say "nginx      up    http://127.0.0.1:$PROXY_PORT/"; else say "nginx      down"; fi
}

cmd_clean() {
  cmd_stop
  if [ -s "$STATE/pg.dir" ]; then rm -rf "$(cat "$STATE/pg.dir")"; fi
  rm -rf "$STATE"
  say "removed $STATE"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  clean) cmd_clean ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
