#!/usr/bin/env bash
# start-monitoring.sh: start the doradura monitoring stack (Prometheus, Alertmanager, Grafana,
# Redis, alertwire), wait until every part is healthy, and print where to find it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REPO_DIR=$(cd "$DEPLOY_DIR/.." && pwd)

usage() {
  cat <<EOF
Usage: deploy/scripts/start-monitoring.sh [--demo] [--open] [--docker | --native]

Starts the monitoring stack and waits until it is healthy. Settings come from deploy/.env
(see deploy/.env.example) and the environment.

  --demo     also start the demo exporter, standing in for the bot (its knobs push any alert
             past its threshold: curl -X POST http://127.0.0.1:\$DEMO_EXPORTER_PORT/scenario/QueueBackup)
  --open     open Prometheus's alerts, Alertmanager and Grafana in the browser once the stack
             is up (with xdg-open on a desktop, open on macOS; nothing happens without one)
  --docker   run with Docker Compose (the default when a Docker engine answers)
  --native   run Debian's prometheus, prometheus-alertmanager and redis-server and alertwire from
             this checkout (needs npm ci); Grafana only if it is installed. Data, logs and pids go
             to MONITORING_STATE_DIR (default deploy/.data).
EOF
}

DEMO=no
OPEN=no
MODE=${MONITORING_MODE:-auto}
while [ $# -gt 0 ]; do
  case "$1" in
    --demo) DEMO=yes ;;
    --open) OPEN=yes ;;
    --docker) MODE=docker ;;
    --native) MODE=native ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
  shift
done

load_settings
if [ "$MODE" = auto ]; then
  if docker_usable; then MODE=docker; else MODE=native; fi
fi
[ "$MODE" = docker ] || [ "$MODE" = native ] || die "MONITORING_MODE must be docker, native or auto"
command -v curl >/dev/null 2>&1 || die "curl is needed (apt-get install curl)"
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ] && [ -z "${TELEGRAM_CHAT_ID:-}" ]; then
  die "TELEGRAM_BOT_TOKEN is set but TELEGRAM_CHAT_ID is not: alertwire needs the chat to send to (deploy/.env)"
fi

# native_stack_running: a stack started without Docker still has processes (in a subshell: the
# state file's variables must not replace this run's)
native_stack_running() {
  (
    read_stack || exit 1
    [ "${MODE:-}" = native ] || exit 1
    for pid in ${PIDS:-}; do pid_running "$pid" && exit 0; done
    exit 1
  )
}
if native_stack_running; then
  die "the stack is already running (state in $STATE_DIR): stop it first with deploy/scripts/stop-monitoring.sh"
fi

mkdir -p "$STATE_DIR"
touch "$STATE_DIR/.alertwire-monitoring" # stop-monitoring.sh --delete-data removes only a marked dir

# ---- waiting -------------------------------------------------------------------------------

# wait_http waits until the URL answers 2xx; a process that dies meanwhile ends the wait with its log.
wait_http() {
  local name=$1 url=$2 timeout=${3:-60} pid=${4:-} log=${5:-} waited=0
  while ! http_ok "$url"; do
    if [ -n "$pid" ] && ! pid_running "$pid"; then
      [ -z "$log" ] || tail -n 20 "$log" >&2
      die "$name exited during startup (log: ${log:-docker logs})"
    fi
    if [ "$waited" -ge $((timeout * 5)) ]; then
      [ -z "$log" ] || tail -n 20 "$log" >&2
      die "$name did not become healthy within ${timeout}s ($url)"
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  printf '    %-13s healthy  %s\n' "$name" "$url"
}

# ---- secrets -------------------------------------------------------------------------------

# ensure_secret writes a secret file once: from the given value, else random. The folder is
# private; the file is readable by the containers' own users (secrets are bind mounts).
ensure_secret() {
  local file=$1 value=${2:-}
  [ -s "$file" ] && return 0
  mkdir -p "$(dirname "$file")"
  chmod 700 "$(dirname "$file")"
  (umask 022 && printf '%s\n' "${value:-$(random_secret)}" >"$file")
  info "created $file"
}

# ---- Docker ----------------------------------------------------------------------------------

start_docker() {
  local secrets=$DEPLOY_DIR/secrets profile=()
  ensure_secret "$secrets/alertwire_webhook_token" "${ALERTWIRE_WEBHOOK_TOKEN:-}"
  ensure_secret "$secrets/grafana_admin_password" "${GRAFANA_ADMIN_PASSWORD:-}"
  if [ "$DEMO" = yes ]; then
    profile=(--profile demo)
    export DORADURA_TARGET=demo-exporter:9090
  fi
  info "starting the stack with Docker Compose${profile:+ (with the demo exporter)}"
  compose "${profile[@]}" up -d --build
  write_stack "MODE=docker" "DEMO=$DEMO"
  info "waiting until every service is healthy"
  local host
  host=$(host_of "$BIND_ADDRESS")
  wait_http Prometheus "http://$host:$PROMETHEUS_PORT/-/ready" 120
  wait_http Alertmanager "http://$host:$ALERTMANAGER_PORT/-/ready" 120
  wait_http alertwire "http://$host:$ALERTWIRE_PORT/readyz" 180
  wait_http Grafana "http://$host:$GRAFANA_PORT/api/health" 180
  [ "$DEMO" = no ] || wait_http demo-exporter "http://$host:$DEMO_EXPORTER_PORT/health" 120
}

# ---- without Docker ------------------------------------------------------------------------

PIDS=''

# launch starts a long-running process in its own session, logging to the state dir, and records
# its pid with a word of its command line (stop-monitoring.sh checks it before killing).
launch() {
  local name=$1 marker=$2
  shift 2
  local log=$STATE_DIR/logs/$name.log
  mkdir -p "$STATE_DIR/logs" "$STATE_DIR/pids"
  : >"$log"
  setsid "$@" >>"$log" 2>&1 </dev/null &
  local pid=$!
  printf '%s %s\n' "$pid" "$marker" >"$STATE_DIR/pids/$name.pid"
  PIDS="$PIDS $pid"
  LAST_PID=$pid
  LAST_LOG=$log
}

require() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: apt-get install $2 (or use Docker)"
}

check_port_free() {
  if port_in_use 127.0.0.1 "$2"; then
    die "port $2 for $1 is taken: set $3 to a free port (deploy/.env or the environment)"
  fi
}

render_alertmanager_config() {
  sed -e "s|http://alertwire:8080/alerts|http://127.0.0.1:$ALERTWIRE_PORT/alerts|" \
    -e "s|/run/secrets/alertwire_webhook_token|$SECRETS_DIR/alertwire_webhook_token|" \
    "$DEPLOY_DIR/alertmanager/alertmanager.yml"
}

render_prometheus_config() {
  sed -e "s|'alertmanager:9093'|'127.0.0.1:$ALERTMANAGER_PORT'|" \
    -e "s|'alertwire:8080'|'127.0.0.1:$ALERTWIRE_PORT'|" \
    -e "s|'localhost:9090'|'127.0.0.1:$PROMETHEUS_PORT'|" \
    -e "s|^  - rules/\*\.yml|  - $DEPLOY_DIR/prometheus/rules/*.yml|" \
    -e "s|/prometheus/doradura-targets.yml|$STATE_DIR/prometheus/doradura-targets.yml|" \
    "$DEPLOY_DIR/prometheus/prometheus.yml"
}

# render_checked writes a rendered config and refuses one that still names a Docker service
# (prometheus.yml changed in a way the rewrite above does not know).
render_checked() {
  local out=$1
  shift
  mkdir -p "$(dirname "$out")"
  "$@" >"$out"
  if grep -nE "(alertmanager|alertwire|prometheus|redis):[0-9]+|/run/secrets/" "$out" | grep -v '^[0-9]*: *#' >&2; then
    die "$out still names a Docker service after the rewrite for running without Docker (see ${FUNCNAME[0]} in $0)"
  fi
}

start_redis() {
  if [ -n "${REDIS_URL:-}" ]; then
    REDIS_OWNED=no
    info "Redis: using REDIS_URL"
  elif redis_ping 127.0.0.1 "$REDIS_PORT"; then
    REDIS_URL=redis://127.0.0.1:$REDIS_PORT
    REDIS_OWNED=no
    info "Redis: reusing the Redis on 127.0.0.1:$REDIS_PORT (keys under \"$ALERTWIRE_REDIS_PREFIX:\")"
  else
    require redis-server redis-server
    check_port_free Redis "$REDIS_PORT" REDIS_PORT
    mkdir -p "$STATE_DIR/redis"
    launch redis redis-server redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$STATE_DIR/redis" \
      --appendonly yes --appendfsync everysec --save '' --maxmemory-policy noeviction --daemonize no --logfile ''
    local waited=0
    until redis_ping 127.0.0.1 "$REDIS_PORT"; do
      pid_running "$LAST_PID" || { tail -n 20 "$LAST_LOG" >&2; die "redis-server exited during startup"; }
      [ "$waited" -lt 100 ] || die "redis-server did not answer within 20s"
      sleep 0.2
      waited=$((waited + 1))
    done
    REDIS_URL=redis://127.0.0.1:$REDIS_PORT
    REDIS_OWNED=yes
    printf '    %-13s healthy  %s (append-only in %s)\n' Redis "$REDIS_URL" "$STATE_DIR/redis"
  fi
}

# abort_native_start: a start that fails half-way stops what it had started, so no process, port
# or pid file is left behind (the logs stay, for the reason).
abort_native_start() {
  local status=$? pid waited=0
  [ "$status" -ne 0 ] || return 0
  [ -n "${PIDS// /}" ] || return 0
  warn "the start failed: stopping what it had started (logs in $STATE_DIR/logs)"
  for pid in $PIDS; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $PIDS; do
    while pid_running "$pid" && [ "$waited" -lt 50 ]; do
      sleep 0.2
      waited=$((waited + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$STATE_DIR/pids"
}

start_native() {
  trap abort_native_start EXIT
  require prometheus prometheus
  require promtool prometheus
  require prometheus-alertmanager prometheus-alertmanager
  require amtool prometheus-alertmanager
  require node nodejs
  require setsid util-linux
  [ -d "$REPO_DIR/node_modules/tsx" ] || die "alertwire's dependencies are missing: run npm ci in $REPO_DIR"
  check_port_free Prometheus "$PROMETHEUS_PORT" PROMETHEUS_PORT
  check_port_free Alertmanager "$ALERTMANAGER_PORT" ALERTMANAGER_PORT
  check_port_free alertwire "$ALERTWIRE_PORT" ALERTWIRE_PORT
  [ "$DEMO" = no ] || check_port_free demo-exporter "$DEMO_EXPORTER_PORT" DEMO_EXPORTER_PORT

  SECRETS_DIR=$STATE_DIR/secrets
  ensure_secret "$SECRETS_DIR/alertwire_webhook_token" "${ALERTWIRE_WEBHOOK_TOKEN:-}"
  local host
  host=$(host_of "$BIND_ADDRESS")
  info "starting the stack without Docker (state in $STATE_DIR)"
  start_redis

  launch alertwire src/main.ts env -C "$REPO_DIR" \
    HOST="$BIND_ADDRESS" PORT="$ALERTWIRE_PORT" REDIS_URL="$REDIS_URL" \
    ALERTWIRE_WEBHOOK_TOKEN_FILE="$SECRETS_DIR/alertwire_webhook_token" \
    ALERTWIRE_DATA_DIR="$STATE_DIR/alertwire" ALERTMANAGER_URL="http://$host:$ALERTMANAGER_PORT" \
    PROMETHEUS_URL="http://$host:$PROMETHEUS_PORT" \
    node --import tsx src/main.ts --config "$DEPLOY_DIR/alertwire/alertwire.yaml"
  wait_http alertwire "http://$host:$ALERTWIRE_PORT/readyz" 60 "$LAST_PID" "$LAST_LOG"

  render_checked "$STATE_DIR/alertmanager/alertmanager.yml" render_alertmanager_config
  amtool check-config "$STATE_DIR/alertmanager/alertmanager.yml" >/dev/null || die "amtool check-config failed"
  mkdir -p "$STATE_DIR/alertmanager/data"
  launch alertmanager "$STATE_DIR/alertmanager" prometheus-alertmanager \
    --config.file="$STATE_DIR/alertmanager/alertmanager.yml" --storage.path="$STATE_DIR/alertmanager/data" \
    --web.listen-address="$BIND_ADDRESS:$ALERTMANAGER_PORT" \
    --web.external-url="${ALERTMANAGER_EXTERNAL_URL:-http://localhost:$ALERTMANAGER_PORT}" \
    --cluster.listen-address=
  wait_http Alertmanager "http://$host:$ALERTMANAGER_PORT/-/ready" 30 "$LAST_PID" "$LAST_LOG"

  local target=${DORADURA_TARGET:-127.0.0.1:9090}
  if [ "$DEMO" = yes ]; then
    launch demo-exporter exporter.ts env -C "$REPO_DIR" \
      DEMO_EXPORTER_HOST="$BIND_ADDRESS" DEMO_EXPORTER_PORT="$DEMO_EXPORTER_PORT" \
      node --import tsx deploy/demo-exporter/exporter.ts
    wait_http demo-exporter "http://$host:$DEMO_EXPORTER_PORT/health" 30 "$LAST_PID" "$LAST_LOG"
    target=$host:$DEMO_EXPORTER_PORT
  fi

  render_checked "$STATE_DIR/prometheus/prometheus.yml" render_prometheus_config
  mkdir -p "$STATE_DIR/prometheus/data"
  launch prometheus "$STATE_DIR/prometheus" env \
    PROMETHEUS_BIN="$(command -v prometheus)" DORADURA_TARGET="$target" \
    DORADURA_TARGETS_FILE="$STATE_DIR/prometheus/doradura-targets.yml" \
    GRAFANA_URL="${GRAFANA_URL:-http://localhost:$GRAFANA_PORT}" \
    RUNBOOK_BASE_URL="${RUNBOOK_BASE_URL:-https://github.com/your-org/alertwire/blob/main/docs/monitoring/runbooks.md}" \
    sh "$DEPLOY_DIR/prometheus/run-prometheus.sh" \
    --config.file="$STATE_DIR/prometheus/prometheus.yml" --storage.tsdb.path="$STATE_DIR/prometheus/data" \
    --storage.tsdb.retention.time="$PROMETHEUS_RETENTION" --web.listen-address="$BIND_ADDRESS:$PROMETHEUS_PORT" \
    --web.external-url="${PROMETHEUS_EXTERNAL_URL:-http://localhost:$PROMETHEUS_PORT}" --web.route-prefix=/ \
    --web.enable-lifecycle --enable-feature=expand-external-labels
  # promtool checks the rendered config and every rule file it loads
  promtool check config "$STATE_DIR/prometheus/prometheus.yml" >/dev/null 2>&1 ||
    { promtool check config "$STATE_DIR/prometheus/prometheus.yml" >&2 || true; die "promtool check config failed"; }
  wait_http Prometheus "http://$host:$PROMETHEUS_PORT/-/ready" 60 "$LAST_PID" "$LAST_LOG"

  GRAFANA=no
  start_native_grafana
  write_stack "MODE=native" "DEMO=$DEMO" "PIDS='${PIDS# }'" "REDIS_URL=$REDIS_URL" "REDIS_OWNED=$REDIS_OWNED" \
    "DORADURA_TARGET=$target" "GRAFANA=$GRAFANA"
  trap - EXIT
}

# Grafana is not in Debian; run it only if Grafana's own package is installed.
start_native_grafana() {
  local bin='' homepath=/usr/share/grafana host
  if command -v grafana >/dev/null 2>&1; then bin="grafana server"; elif command -v grafana-server >/dev/null 2>&1; then bin=grafana-server; fi
  if [ -z "$bin" ] || [ ! -d "$homepath" ]; then
    info "Grafana is not installed: skipped (install it from Grafana's APT repository, or use Docker, for the dashboards)"
    return 0
  fi
  check_port_free Grafana "$GRAFANA_PORT" GRAFANA_PORT
  host=$(host_of "$BIND_ADDRESS")
  local prov=$STATE_DIR/grafana/provisioning
  mkdir -p "$prov/datasources" "$prov/dashboards" "$STATE_DIR/grafana/data"
  sed -e "s|http://prometheus:9090|http://$host:$PROMETHEUS_PORT|" -e "s|http://alertmanager:9093|http://$host:$ALERTMANAGER_PORT|" \
    "$DEPLOY_DIR/grafana/provisioning/datasources/datasources.yml" >"$prov/datasources/datasources.yml"
  sed -e "s|/etc/grafana/dashboards|$DEPLOY_DIR/grafana/dashboards|" \
    "$DEPLOY_DIR/grafana/provisioning/dashboards/dashboards.yml" >"$prov/dashboards/dashboards.yml"
  ensure_secret "$SECRETS_DIR/grafana_admin_password" "${GRAFANA_ADMIN_PASSWORD:-}"
  # shellcheck disable=SC2086 # "grafana server" is two words on purpose
  launch grafana "$STATE_DIR/grafana" env \
    GF_PATHS_PROVISIONING="$prov" GF_PATHS_DATA="$STATE_DIR/grafana/data" GF_PATHS_LOGS="$STATE_DIR/grafana/logs" \
    GF_PATHS_PLUGINS="$STATE_DIR/grafana/plugins" GF_SERVER_HTTP_ADDR="$BIND_ADDRESS" GF_SERVER_HTTP_PORT="$GRAFANA_PORT" \
    GF_SECURITY_ADMIN_USER="$GRAFANA_ADMIN_USER" GF_SECURITY_ADMIN_PASSWORD__FILE="$SECRETS_DIR/grafana_admin_password" \
    GF_USERS_ALLOW_SIGN_UP=false GF_ANALYTICS_REPORTING_ENABLED=false \
    GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH="$DEPLOY_DIR/grafana/dashboards/doradura_overview.json" \
    $bin --homepath "$homepath"
  wait_http Grafana "http://$host:$GRAFANA_PORT/api/health" 90 "$LAST_PID" "$LAST_LOG"
  GRAFANA=yes
}

# write_stack records what runs, for check-metrics.sh and stop-monitoring.sh.
write_stack() {
  {
    echo "# written by start-monitoring.sh; read by check-metrics.sh and stop-monitoring.sh"
    for assignment in "$@"; do echo "$assignment"; done
    for var in BIND_ADDRESS PROMETHEUS_PORT ALERTMANAGER_PORT GRAFANA_PORT ALERTWIRE_PORT DEMO_EXPORTER_PORT ALERTWIRE_REDIS_PREFIX; do
      printf '%s=%q\n' "$var" "${!var}"
    done
  } >"$STACK_FILE"
}

# wait_first_scrapes waits (up to 30 s: a scrape interval and then some) until Prometheus has
# scraped every job once, so check-metrics.sh right after this script sees the whole stack.
wait_first_scrapes() {
  local url waited=0 jobs
  url=http://$(host_of "$BIND_ADDRESS"):$PROMETHEUS_PORT
  while :; do
    jobs=$(promql "$url" 'count by (job) (up)' | grep -o 'job=[^ ,]*' | cut -d= -f2 | sort | tr '\n' ' ' || true)
    [ "$(wc -w <<<"$jobs")" -lt 4 ] || break
    if [ "$waited" -ge 150 ]; then
      warn "Prometheus has not scraped every job yet (so far: ${jobs:-none})"
      return 0
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  printf '    %-13s scraping %s\n' Prometheus "$jobs"
}

if [ "$MODE" = docker ]; then start_docker; else start_native; fi
wait_first_scrapes

host=$(host_of "$BIND_ADDRESS")
# shellcheck source=/dev/null
. "$STACK_FILE"
prom_ui=$(prometheus_ui "http://$host:$PROMETHEUS_PORT")
cat <<EOF

The monitoring stack is up ($MODE).
  Prometheus    http://$host:$PROMETHEUS_PORT
    alerts: $prom_ui/alerts   targets: $prom_ui/targets   rules: $prom_ui/rules
  Alertmanager  http://$host:$ALERTMANAGER_PORT
  alertwire     http://$host:$ALERTWIRE_PORT/metrics
EOF
dashboards=("$prom_ui/alerts" "http://$host:$ALERTMANAGER_PORT")
if [ "$MODE" = docker ] || [ "${GRAFANA:-no}" = yes ]; then
  secrets_dir=$DEPLOY_DIR/secrets
  [ "$MODE" = docker ] || secrets_dir=$STATE_DIR/secrets
  echo "  Grafana       http://$host:$GRAFANA_PORT  (user $GRAFANA_ADMIN_USER, password in $secrets_dir/grafana_admin_password)"
  dashboards+=("http://$host:$GRAFANA_PORT")
fi
if [ "$DEMO" = yes ]; then
  cat <<EOF
  demo exporter http://$host:$DEMO_EXPORTER_PORT/metrics
    push an alert past its threshold:  curl -X POST http://$host:$DEMO_EXPORTER_PORT/scenario/QueueBackup
    back to normal:                    curl -X POST http://$host:$DEMO_EXPORTER_PORT/scenario/healthy
EOF
fi
if [ -z "${TELEGRAM_BOT_TOKEN:-}" ]; then
  echo "  Telegram: no TELEGRAM_BOT_TOKEN, so alertwire runs in dry-run mode and logs each message instead."
fi
cat <<EOF

Check it: deploy/scripts/check-metrics.sh    Stop it: deploy/scripts/stop-monitoring.sh [--delete-data]
EOF
[ "$OPEN" = no ] || open_urls "${dashboards[@]}"
