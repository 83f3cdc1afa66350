#!/usr/bin/env bash
# Starts a local REAPI remote-execution service for Bazel: a BuildGrid server
# (PyPI `buildgrid`) with its PostgreSQL scheduler database (Debian's
# postgresql) and tools/remote/host_bot.py as the CPU worker, then waits;
# Ctrl-C / SIGTERM stops all three. See README.md here for the Bazel flags.
#
#   tools/remote/start_buildgrid.sh
#
# Environment (all optional):
#   BGD_VENV     virtual environment to create/use     (/tmp/buildgrid/venv)
#   BGD_STATE    CAS, database, logs, worker scratch   (/tmp/buildgrid/state)
#   BGD_VERSION  buildgrid version from PyPI            (0.4.4)
#   BGD_PORT     gRPC port of the server                (50051)
#   BGD_PG_PORT  port of the private PostgreSQL cluster (5499)
#   BGD_BOTS     parallel worker sessions               ($(nproc))
#   BGD_POOL     Pool property the worker advertises    (cpu)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=${BGD_VENV:-/tmp/buildgrid/venv}
state=${BGD_STATE:-/tmp/buildgrid/state}
version=${BGD_VERSION:-0.4.4}
port=${BGD_PORT:-50051}
pgport=${BGD_PG_PORT:-5499}
bots=${BGD_BOTS:-$(nproc)}
pool=${BGD_POOL:-cpu}
instance=main
mkdir -p "$state"
state=$(cd "$state" && pwd)

log() { echo "start_buildgrid: $*" >&2; }

# 1. BuildGrid into a venv. psycopg2 explicitly: SQLAlchemy 2.1 (pulled in by
#    buildgrid) defaults postgresql:// to psycopg 3, but BuildGrid's LISTEN/NOTIFY
#    notifier calls psycopg2's connection.poll().
if [ ! -x "$venv/bin/bgd" ]; then
  log "installing buildgrid==$version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "buildgrid==$version" psycopg2-binary
fi

# 2. PostgreSQL (BuildGrid >= 0.1 refuses SQLite for its scheduler).
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$pgbin" ]; then
  log "installing Debian's postgresql"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
as_pg() {  # initdb/postgres refuse to run as root
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
pgdir=$state/pg
mkdir -p "$pgdir"
if [ "$(id -u)" = 0 ]; then chown postgres "$pgdir"; fi
if [ ! -f "$pgdir/data/PG_VERSION" ]; then
  as_pg "'$pgbin/initdb' -D '$pgdir/data' -U bgd --auth=trust -E UTF8" >"$state/initdb.log"
fi
as_pg "'$pgbin/pg_ctl' -D '$pgdir/data' -l '$pgdir/postgres.log' -w \
  -o '-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=200' start" >/dev/null
db=postgresql+psycopg2://bgd@127.0.0.1:$pgport/bgd
as_pg "'$pgbin/psql' -h 127.0.0.1 -p $pgport -U bgd -d postgres -tAc \"select 1 from pg_database where datname='bgd'\"" | grep -q 1 \
  || as_pg "'$pgbin/createdb' -h 127.0.0.1 -p $pgport -U bgd bgd"
"$venv/bin/bgd" migrate apply "$db" >"$state/migrate.log" 2>&1

server_pid= bot_pid=
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$bot_pid" ]; then kill "$bot_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  as_pg "'$pgbin/pg_ctl' -D '$pgdir/data' -m fast stop" >/dev/null 2>&1 || true
  log "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 3. The server: CAS + ActionCache + Execution + Bots on one port.
mkdir -p "$state/cas"
sed -e "s|@PORT@|$port|" -e "s|@DB@|$db|" -e "s|@CAS@|$state/cas|" \
  "$here/buildgrid.yml" >"$state/buildgrid.yml"
"$venv/bin/bgd" server start "$state/buildgrid.yml" >"$state/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 60); do
  if "$venv/bin/python" -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { log "server died:"; tail -20 "$state/server.log" >&2; exit 1; }
  sleep 1
done

# 4. The worker.
"$venv/bin/python" "$here/host_bot.py" --remote "127.0.0.1:$port" --instance-name "$instance" \
  --bots "$bots" --work-dir "$state/worker" \
  --property OSFamily=linux --property ISA=x86-64 --property "Pool=$pool" >"$state/worker.log" 2>&1 &
bot_pid=$!

echo "endpoint: grpc://127.0.0.1:$port  instance: $instance  worker: $bots x Pool=$pool"
echo "logs: $state/server.log $state/worker.log"
wait -n "$server_pid" "$bot_pid" || true
log "server or worker exited; see $state/server.log $state/worker.log"
