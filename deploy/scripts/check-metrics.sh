#!/usr/bin/env bash
# check-metrics.sh: is every part of the monitoring stack healthy, are they connected, and what do
# the metrics say? Exits 1 when a check fails. Needs bash and curl only.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
  echo "Usage: deploy/scripts/check-metrics.sh   (checks the stack start-monitoring.sh started)"
  exit 0
fi

load_settings
MODE=''
DEMO=no
GRAFANA=yes
read_stack || warn "no stack recorded in $STATE_DIR; checking the default ports"
host=$(host_of "$BIND_ADDRESS")
PROM=http://$host:$PROMETHEUS_PORT
AM=http://$host:$ALERTMANAGER_PORT
AW=http://$host:$ALERTWIRE_PORT

failures=0
ok_mark='✓' bad_mark='✗'
if [ -t 1 ]; then ok_mark=$'\033[32m✓\033[0m' bad_mark=$'\033[31m✗\033[0m'; fi
pass() { printf '  %s %s\n' "$ok_mark" "$*"; }
fail() {
  printf '  %s %s\n' "$bad_mark" "$*"
  failures=$((failures + 1))
}
note() { printf '  · %s\n' "$*"; }

# check_http: one component's health endpoint.
check_http() {
  local name=$1 url=$2
  if http_ok "$url"; then pass "$name answers $url"; else fail "$name does not answer $url"; fi
}

# value prints the first sample of a query, or "-".
value() {
  local line
  line=$(promql "$PROM" "$1" | head -n 1)
  [ -n "$line" ] && printf '%s' "${line##* }" || printf '%s' -
}

echo "Components"
check_http Prometheus "$PROM/-/ready"
check_http Alertmanager "$AM/-/ready"
check_http alertwire "$AW/healthz"
if body=$(curl -sS --max-time 3 "$AW/readyz" 2>/dev/null) && http_ok "$AW/readyz"; then
  pass "alertwire is ready (Redis answers): $body"
else
  fail "alertwire is not ready: ${body:-no answer} (Redis down?)"
fi
if [ "$MODE" = docker ]; then
  if compose exec -T redis redis-cli ping 2>/dev/null | grep -q PONG; then pass "Redis answers PING"; else fail "Redis does not answer PING"; fi
elif [ -n "${REDIS_URL:-}" ]; then
  redis_hostport=${REDIS_URL#*://}
  redis_hostport=${redis_hostport#*@}
  redis_hostport=${redis_hostport%%/*}
  if redis_ping "${redis_hostport%%:*}" "${redis_hostport##*:}"; then pass "Redis answers PING at $REDIS_URL"; else fail "Redis does not answer PING at $REDIS_URL"; fi
fi
if [ "$GRAFANA" = yes ]; then
  check_http Grafana "http://$host:$GRAFANA_PORT/api/health"
else
  note "Grafana: not running (not installed; dashboards need it)"
fi
if [ "$DEMO" = yes ]; then check_http "demo exporter" "http://$host:$DEMO_EXPORTER_PORT/health"; fi

echo "Connectivity"
targets=$(promql "$PROM" 'up')
if [ -z "$targets" ]; then
  fail "Prometheus has no scrape targets (or does not answer)"
fi
for job in doradura alertwire alertmanager prometheus; do
  lines=$(printf '%s\n' "$targets" | grep "job=$job" || true)
  if [ -z "$lines" ]; then
    fail "Prometheus has no $job target"
    continue
  fi
  while read -r labels up; do
    instance=$(printf '%s' "$labels" | grep -o 'instance=[^,]*' | cut -d= -f2-)
    if [ "$up" = 1 ]; then
      pass "Prometheus scrapes $job at $instance"
    else
      # the target's lastError from the API's JSON (a string with escaped quotes inside)
      error=$(http_body "$PROM/api/v1/targets?state=active" |
        grep -oE '"scrapeUrl":"[^"]*'"${instance}"'[^"]*"[^}]*"lastError":"([^"\\]|\\.)*"' |
        grep -oE '"lastError":"([^"\\]|\\.)*"' | head -n 1 | sed -E 's/^"lastError":"//; s/"$//; s/\\"/"/g')
      fail "Prometheus cannot scrape $job at $instance${error:+: $error}"
    fi
  done <<<"$lines"
done
discovered=$(value 'sum(prometheus_notifications_alertmanagers_discovered)')
if [ "$discovered" != - ] && [ "${discovered%%.*}" -ge 1 ]; then pass "Prometheus sends alerts to $discovered Alertmanager(s)"; else fail "Prometheus has no Alertmanager to send alerts to"; fi
sent=$(value 'sum(alertmanager_notifications_total{integration="webhook"})')
failed=$(value 'sum(alertmanager_notifications_failed_total{integration="webhook"})')
if [ "$failed" = - ] || [ "${failed%%.*}" = 0 ]; then
  pass "Alertmanager → alertwire: $sent notifications sent, none failed"
else
  fail "Alertmanager → alertwire: $failed of $sent notifications failed (Alertmanager's log says why)"
fi
refused=$(value 'sum(alertwire_webhooks_received_total{result!="accepted"})')
accepted=$(value 'sum(alertwire_webhooks_received_total{result="accepted"})')
if [ "$refused" = - ] || [ "${refused%%.*}" = 0 ]; then
  pass "alertwire accepted ${accepted/-/0} webhooks, refused none"
else
  fail "alertwire refused $refused webhooks: $(promql "$PROM" 'sum by (result) (alertwire_webhooks_received_total{result!="accepted"})' | tr '\n' ' ')"
fi
if [ "$(value 'max(alertwire_dry_run)')" = 1 ]; then
  note "alertwire → Telegram: DRY RUN (no TELEGRAM_BOT_TOKEN): messages go to alertwire's log"
else
  failing=$(value 'sum(rate(alertwire_telegram_request_duration_seconds_count{outcome=~"transient|misconfigured|chat_unreachable|rejected"}[10m]))')
  if [ "$failing" = - ] || [ "$failing" = 0 ]; then pass "alertwire → Telegram: no failing calls in the last 10 minutes"; else fail "alertwire → Telegram: $failing failing calls/s (alertwire's log names the chat and error)"; fi
fi
dead=$(value 'sum(alertwire_dead_letters)')
if [ "$dead" = - ] || [ "${dead%%.*}" = 0 ]; then pass "no dead letters"; else fail "$dead dead letters kept in Redis: redis-cli LRANGE $ALERTWIRE_REDIS_PREFIX:dead 0 9"; fi

echo "Sample metrics"
sample() { printf '  %-36s %s\n' "$1" "$(value "$2")"; }
sample 'doradura downloads/s' 'sum(instance:doradura_download_attempts:rate5m)'
sample 'doradura success ratio (5m)' 'min(instance:doradura_download_success:ratio_rate5m)'
sample 'doradura download p95 (s)' 'max(instance:doradura_download_duration_seconds:p95_rate5m)'
sample 'doradura queue depth' 'sum(doradura_queue_depth)'
sample 'doradura daily active users' 'sum(doradura_daily_active_users)'
sample 'doradura active subscriptions' 'sum(doradura_active_subscriptions)'
sample 'alertwire outbox depth' 'sum(alertwire_queue_depth{queue="outbox"})'
sample 'alertwire messages sent' 'sum(alertwire_messages_total{outcome=~"sent|sent_plain"})'
sample 'Prometheus rule evaluation failures' 'sum(prometheus_rule_evaluation_failures_total)'

echo "Alerts"
firing=$(promql "$PROM" 'ALERTS{alertstate="firing"}' | grep -o 'alertname=[^,]*' | cut -d= -f2 | sort | uniq -c | awk '{print $2 (($1 > 1) ? " x" $1 : "")}' | tr '\n' ' ')
pending=$(promql "$PROM" 'ALERTS{alertstate="pending"}' | grep -o 'alertname=[^,]*' | cut -d= -f2 | sort -u | tr '\n' ' ')
note "firing: ${firing:-none}"
note "pending (waiting out their for:): ${pending:-none}"

echo
if [ "$failures" -eq 0 ]; then
  echo "All checks passed."
else
  echo "$failures check(s) failed. docs/monitoring/troubleshooting.md walks an alert's path step by step."
  exit 1
fi
