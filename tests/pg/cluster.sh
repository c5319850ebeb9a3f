#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of the PostgreSQL store.
#
#   tests/pg/cluster.sh start          initdb into a new temporary directory,
#                                      start a server on a free port of
#                                      127.0.0.1 (unix socket in that
#                                      directory), print shell exports:
#                                        PATRON_TEST_PG      conninfo
#                                        PATRON_TEST_PG_DIR  the directory
#   tests/pg/cluster.sh stop DIR       stop that server and remove DIR
#   tests/pg/cluster.sh run CMD ARG..  run CMD with PATRON_TEST_PG set: the
#                                      caller's if set, else a cluster of its
#                                      own for the duration of CMD
#   tests/pg/cluster.sh check          print the directory of PostgreSQL's
#                                      binaries; fail if there is none
#
# Usage from a shell:  eval "$(tests/pg/cluster.sh start)"; ...;
#                      tests/pg/cluster.sh stop "$PATRON_TEST_PG_DIR"
#
# The server never runs as root: as root the cluster belongs to the system
# user patron-pg (created if missing, no login, no home), otherwise to the
# caller.  Authentication is `trust` on 127.0.0.1 and the socket only; the
# superuser is patron_test.  fsync is off (a test cluster needs no
# durability against power loss; a killed client still leaves it
# consistent); PATRON_PG_FSYNC=on turns it on (benchmarks).
# PostgreSQL's binaries: PG_BINDIR, else the newest /usr/lib/postgresql/*/bin,
# else PATH.
set -euo pipefail

die() { echo "cluster.sh: $*" >&2; exit 1; }

bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return 0; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  d=$(command -v initdb 2>/dev/null || true)
  [ -n "$d" ] || die "PostgreSQL's initdb not found (apt-get install postgresql, or set PG_BINDIR)"
  dirname "$d"
}

free_port() {
  local py
  py=$(command -v /usr/bin/python3 || command -v python3) || die "python3 needed to find a free port"
  "$py" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Run "$@" as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u patron-pg -- "$@"
  else
    "$@"
  fi
}

cmd_start() {
  local bin dir port tries=0 fsync=${PATRON_PG_FSYNC:-off}
  bin=$(bindir)
  if [ "$(id -u)" -eq 0 ] && ! id patron-pg >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin patron-pg \
      || id patron-pg >/dev/null 2>&1 || die "cannot create the user patron-pg"
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/patron-pg.XXXXXX")
  chmod 700 "$dir"
  [ "$(id -u)" -eq 0 ] && chown patron-pg: "$dir"
  if ! as_owner "$bin/initdb" -D "$dir/data" -U patron_test -A trust -E UTF8 --locale=C.UTF-8 \
       --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    die "initdb failed"
  fi
  while :; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
         -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=$fsync -c synchronous_commit=$fsync -c full_page_writes=$fsync -c max_connections=60" \
         start >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    if [ "$tries" -ge 5 ]; then
      tail -n 20 "$dir/server.log" >&2 || true
      rm -rf "$dir"
      die "the server did not start"
    fi
  done
  echo "export PATRON_TEST_PG='host=127.0.0.1 port=$port dbname=postgres user=patron_test'"
  echo "export PATRON_TEST_PG_DIR='$dir'"
}

cmd_stop() {
  local dir=${1:-} bin
  [ -n "$dir" ] || die "usage: cluster.sh stop DIR"
  [ -d "$dir/data" ] || die "$dir is not a cluster of cluster.sh"
  bin=$(bindir)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 \
    || as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

cmd_run() {
  [ $# -gt 0 ] || die "usage: cluster.sh run CMD [ARG...]"
  if [ -n "${PATRON_TEST_PG:-}" ]; then
    exec "$@"
  fi
  local exports rc=0
  exports=$(cmd_start)
  eval "$exports"
  # stopped once, however CMD ends (a timeout's SIGTERM included)
  # (set +e: in a trap, a bare `return` gives the status CMD ended with)
  trap 'set +e; if [ -d "$PATRON_TEST_PG_DIR/data" ]; then cmd_stop "$PATRON_TEST_PG_DIR"; fi' EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  "$@" || rc=$?
  exit "$rc"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  run) shift; cmd_run "$@" ;;
  check) d=$(bindir) && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d" ;;
  *) die "usage: cluster.sh start | stop DIR | run CMD [ARG...] | check" ;;
esac
