#!/bin/sh
# Entry point of the prometheus service: writes the bot's scrape target(s) from the environment
# into the file prometheus.yml's doradura job reads, then runs Prometheus with the given flags.
# start-monitoring.sh runs it the same way without Docker (PROMETHEUS_BIN, DORADURA_TARGETS_FILE).
#
#   DORADURA_TARGET   host:port of the bot's metrics server; several separated by commas
#   DORADURA_SCHEME   http (default) or https
set -eu

targets_file=${DORADURA_TARGETS_FILE:-/prometheus/doradura-targets.yml}
target=${DORADURA_TARGET:-host.docker.internal:9090}
scheme=${DORADURA_SCHEME:-http}

case "$scheme" in
  http | https) ;;
  *) echo "run-prometheus.sh: DORADURA_SCHEME must be http or https, got '$scheme'" >&2; exit 2 ;;
esac
case "$target" in
  *[!A-Za-z0-9.:,_[\]-]*)
    echo "run-prometheus.sh: DORADURA_TARGET must be host:port[,host:port...], got '$target'" >&2
    exit 2
    ;;
esac

list=$(printf '%s' "$target" | sed "s/,/', '/g")
mkdir -p "$(dirname "$targets_file")"
# write then rename, so Prometheus never reads a half-written file
cat >"$targets_file.tmp" <<EOF
# Written by run-prometheus.sh from DORADURA_TARGET at start; changes here last until the next start.
- targets: ['$list']
  labels:
    __scheme__: $scheme
EOF
mv "$targets_file.tmp" "$targets_file"

exec "${PROMETHEUS_BIN:-/bin/prometheus}" "$@"
