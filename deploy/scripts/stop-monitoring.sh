#!/usr/bin/env bash
# stop-monitoring.sh: stop the monitoring stack start-monitoring.sh started; --delete-data also
# removes what it stored (metrics, silences, Grafana's database, alertwire's Redis keys).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: deploy/scripts/stop-monitoring.sh [--delete-data [--yes]]

  --delete-data  also delete the stack's data: Docker volumes, or the state dir of a stack run
                 without Docker, and alertwire's keys in a Redis it shared with other programs
                 (undelivered alerts are lost). Asks first on a terminal unless --yes is given.
EOF
}

DELETE=no
YES=no
while [ $# -gt 0 ]; do
  case "$1" in
    --delete-data) DELETE=yes ;;
    -y | --yes) YES=yes ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
  shift
done

load_settings

if [ "$DELETE" = yes ] && [ "$YES" = no ] && [ -t 0 ]; then
  read -r -p "Delete all monitoring data (metrics history, silences, Grafana, undelivered alerts)? [y/N] " answer
  case "$answer" in y | Y | yes) ;; *) die "nothing deleted, nothing stopped" ;; esac
fi

# stop_pid ends one process start-monitoring.sh started: SIGTERM, then SIGKILL after 15 s. The pid
# file also holds a word of the command line, so a pid reused by another program is left alone.
stop_pid() {
  local name=$1 file=$STATE_DIR/pids/$1.pid pid marker waited=0
  [ -f "$file" ] || return 0
  read -r pid marker <"$file"
  if pid_running "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"; then
    kill -TERM "$pid" 2>/dev/null || true
    while pid_running "$pid"; do
      if [ "$waited" -ge 75 ]; then
        warn "$name (pid $pid) did not stop within 15s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.2
      waited=$((waited + 1))
    done
    printf '    %-13s stopped\n' "$name"
  fi
  rm -f "$file"
}

# delete_redis_keys removes alertwire's keys from a Redis the stack did not own.
delete_redis_keys() {
  local url=$1 prefix=$2
  [ -n "$prefix" ] || die "refusing to delete Redis keys with an empty prefix"
  if ! command -v redis-cli >/dev/null 2>&1; then
    warn "redis-cli is not installed: alertwire's keys ($prefix:*) are still in $url"
    return 0
  fi
  redis-cli -u "$url" --scan --pattern "$prefix:*" | xargs -r -n 500 redis-cli -u "$url" unlink >/dev/null
  info "deleted alertwire's keys ($prefix:*) from $url"
}

stop_native() {
  info "stopping the stack (state in $STATE_DIR)"
  # alertwire before Redis, so it can finish what it has in flight
  for name in grafana prometheus demo-exporter alertmanager alertwire redis; do stop_pid "$name"; done
  if [ "$DELETE" = yes ]; then
    [ "${REDIS_OWNED:-yes}" = yes ] || delete_redis_keys "$REDIS_URL" "$ALERTWIRE_REDIS_PREFIX"
    # only a folder start-monitoring.sh made (it leaves a marker), never a mistyped path
    [ -f "$STATE_DIR/.alertwire-monitoring" ] || die "$STATE_DIR was not made by start-monitoring.sh: not deleting it"
    rm -rf -- "$STATE_DIR"
    info "deleted $STATE_DIR"
  fi
  # stack.env stays: a later --delete-data still knows which Redis and prefix the stack used
}

stop_docker() {
  info "stopping the stack (Docker Compose)"
  if [ "$DELETE" = yes ]; then
    compose --profile demo down --volumes --remove-orphans
    info "deleted the stack's volumes"
  else
    compose --profile demo down --remove-orphans
  fi
  if [ "$DELETE" = yes ] && [ -f "$STATE_DIR/.alertwire-monitoring" ]; then rm -rf -- "$STATE_DIR"; fi
}

if read_stack; then
  if [ "$MODE" = docker ]; then stop_docker; else stop_native; fi
elif [ -d "$STATE_DIR/pids" ]; then
  stop_native # a start that did not finish recording the stack
elif docker_usable; then
  stop_docker
else
  info "no stack recorded in $STATE_DIR: nothing to stop"
  if [ "$DELETE" = yes ] && [ -f "$STATE_DIR/.alertwire-monitoring" ]; then
    rm -rf -- "$STATE_DIR"
    info "deleted $STATE_DIR"
  fi
fi
