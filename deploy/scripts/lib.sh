# shellcheck shell=bash
# Shared by start-monitoring.sh, stop-monitoring.sh and check-metrics.sh: settings (deploy/.env and
# the environment), the run mode (Docker or Debian's binaries), the state of a started stack, and
# small HTTP / Redis probes that need nothing but bash and curl.

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMPOSE_FILE=$DEPLOY_DIR/docker-compose.yml

info() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# load_env_file reads KEY=value lines; a variable already set (non-empty) in the environment wins,
# and an empty value means "not set", as in docker-compose's ${VAR:-default}.
load_env_file() {
  local file=$1 line key value
  [ -f "$file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    [ -n "$value" ] || continue
    if [ -z "${!key:-}" ]; then export "$key=$value"; fi
  done <"$file"
}

# load_settings applies deploy/.env (MONITORING_ENV_FILE names another file) and the defaults,
# which are the same as docker-compose.yml's.
load_settings() {
  load_env_file "${MONITORING_ENV_FILE:-$DEPLOY_DIR/.env}"
  export BIND_ADDRESS=${BIND_ADDRESS:-127.0.0.1}
  export PROMETHEUS_PORT=${PROMETHEUS_PORT:-9091}
  export ALERTMANAGER_PORT=${ALERTMANAGER_PORT:-9093}
  export GRAFANA_PORT=${GRAFANA_PORT:-3000}
  export ALERTWIRE_PORT=${ALERTWIRE_PORT:-8080}
  export DEMO_EXPORTER_PORT=${DEMO_EXPORTER_PORT:-9090}
  export REDIS_PORT=${REDIS_PORT:-6379}
  export PROMETHEUS_RETENTION=${PROMETHEUS_RETENTION:-30d}
  export ALERTWIRE_REDIS_PREFIX=${ALERTWIRE_REDIS_PREFIX:-alertwire}
  export GRAFANA_ADMIN_USER=${GRAFANA_ADMIN_USER:-admin}
  STATE_DIR=${MONITORING_STATE_DIR:-$DEPLOY_DIR/.data}
  STACK_FILE=$STATE_DIR/stack.env
}

# host_of turns a listen address into one to connect to.
host_of() {
  case "$1" in 0.0.0.0 | '') echo 127.0.0.1 ;; *) echo "$1" ;; esac
}

# docker_usable: a Docker engine answers and a compose command exists.
docker_usable() {
  command -v docker >/dev/null 2>&1 || return 1
  timeout 10 docker info >/dev/null 2>&1 || return 1
  docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1
}

# compose runs docker compose (v2) or docker-compose (v1) on deploy/docker-compose.yml.
compose() {
  if docker compose version >/dev/null 2>&1; then
    docker compose -f "$COMPOSE_FILE" "$@"
  else
    docker-compose -f "$COMPOSE_FILE" "$@"
  fi
}

# read_stack loads what start-monitoring.sh recorded about the running stack; fails if none.
read_stack() {
  [ -f "$STACK_FILE" ] || return 1
  # shellcheck source=/dev/null
  . "$STACK_FILE"
}

# http_ok: the URL answers 2xx within 3 seconds.
http_ok() {
  curl -fsS -o /dev/null --max-time 3 "$1" 2>/dev/null
}

# http_body prints the body of a 2xx answer.
http_body() {
  curl -fsS --max-time 5 "$1" 2>/dev/null
}

# port_in_use: something accepts connections on host:port.
port_in_use() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# redis_ping: a Redis without a password answers PING on host:port.
redis_ping() {
  local reply=''
  { exec 3<>"/dev/tcp/$1/$2"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 2 reply <&3 || true
  exec 3<&- 3>&-
  [[ "$reply" == +PONG* ]]
}

# pid_running: the process exists and is not a zombie (a process whose parent has exited is
# reaped by init, which may take a moment; it is gone for our purposes).
pid_running() {
  local state
  state=$(sed -E 's/^[0-9]+ \(.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# random_secret prints 32 URL-safe random characters.
random_secret() {
  head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32
}

# promql runs an instant query against Prometheus and prints one line per sample:
# "label=value,label=value value". Dependency-free: the API's vector JSON is regular enough.
promql() {
  local url=$1 query=$2 body
  body=$(curl -fsS --max-time 5 -G --data-urlencode "query=$query" "$url/api/v1/query" 2>/dev/null) || return 1
  printf '%s' "$body" | grep -o '"metric":{[^}]*},"value":\[[^]]*\]' |
    sed -E 's/"metric":\{([^}]*)\},"value":\[[^,]*,"([^"]*)"\]/\1 \2/; s/"__name__":"[^"]*",?//; s/"([^"]+)":"([^"]*)"/\1=\2/g'
}

# prometheus_ui prints the prefix of Prometheus's alerts, targets and rules pages: Debian's
# package serves only the classic UI, under /classic/ (its /alerts is a 404), while the official
# builds (the Docker image) serve the new UI at /alerts.
prometheus_ui() {
  if http_ok "$1/classic/alerts"; then printf '%s/classic' "$1"; else printf '%s' "$1"; fi
}

# desktop_opener prints the command that opens a URL in the desktop's browser, or fails when
# there is none (a server, a container, an SSH session without a display).
desktop_opener() {
  if command -v xdg-open >/dev/null 2>&1 && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    echo xdg-open
  elif [ "$(uname -s)" = Darwin ] && command -v open >/dev/null 2>&1; then
    echo open
  else
    return 1
  fi
}

# open_urls opens each URL in the browser, in the background; quietly nothing without a desktop.
open_urls() {
  local opener url
  opener=$(desktop_opener) || return 0
  for url in "$@"; do "$opener" "$url" >/dev/null 2>&1 </dev/null & done
  return 0
}
