#!/usr/bin/env bash
# Run by `npm test` before tap. The tests drive real binaries from Debian's packages
# (redis-server, prometheus-alertmanager + amtool, prometheus + promtool) instead of mocks,
# so make sure they exist: install them when we can (root with apt-get, as in CI images),
# otherwise say exactly what to install. Silent when everything is present.
set -euo pipefail

# binary -> Debian package that ships it
declare -A package_of=(
  [redis-server]=redis-server
  [redis-sentinel]=redis-sentinel
  [prometheus-alertmanager]=prometheus-alertmanager
  [amtool]=prometheus-alertmanager
  [prometheus]=prometheus
  [promtool]=prometheus
)

# Prints the packages (each once, sorted) whose binaries are not on PATH.
missing_packages() {
  local bin
  for bin in "${!package_of[@]}"; do
    command -v "$bin" >/dev/null 2>&1 || echo "${package_of[$bin]}"
  done | sort -u
}

mapfile -t missing < <(missing_packages)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test-prereqs: installing ${missing[*]} (tests run real Redis, Alertmanager and Prometheus)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
  fi
  echo "test-prereqs: still missing after apt-get install: ${missing[*]}" >&2
  exit 1
fi

echo "test-prereqs: the tests need these Debian packages: ${missing[*]}" >&2
echo "  install them with: sudo apt-get install -y ${missing[*]}" >&2
exit 1
