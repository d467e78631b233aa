#!/usr/bin/env bash
# Runs the resolver's fixed-record tests (test/resolver-records.test.ts) against dnsmasq, a DNS
# server nobody here wrote. Installs Debian's dnsmasq-base (the binary only, no system service)
# when missing; without root to install it, skips with a reason (exit 0). Starts dnsmasq on
# 127.0.0.1 and a random free port with the shared test zone, runs the tests with
# CORPC_TEST_DNS=127.0.0.1:PORT, and stops it.
#
# Usage (from the repository root): bash test/dnsmasq/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v dnsmasq >/dev/null 2>&1 && [ ! -x /usr/sbin/dnsmasq ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test/dnsmasq/run.sh: SKIPPED: dnsmasq is not installed and installing it needs root (apt-get install dnsmasq-base)"
    exit 0
  fi
  echo "test/dnsmasq/run.sh: installing dnsmasq-base"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq dnsmasq-base >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq dnsmasq-base >/dev/null; }
fi
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

node --conditions=corpc-source --import tsx test/dnsmasq/config.ts >"$work/dnsmasq.conf"

# A random port; retried if something else holds it.
for attempt in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 40000))
  "$DNSMASQ" --keep-in-foreground --no-resolv --no-hosts --no-poll --bind-interfaces \
    --listen-address=127.0.0.1 --port="$port" --pid-file= --user="$(id -un)" \
    --conf-file="$work/dnsmasq.conf" --log-facility="$work/dnsmasq.log" &
  pid=$!
  sleep 0.3
  if kill -0 "$pid" 2>/dev/null; then break; fi
  wait "$pid" 2>/dev/null || true
  pid=""
done
if [ -z "$pid" ]; then
  echo "test/dnsmasq/run.sh: dnsmasq did not start:" >&2
  cat "$work/dnsmasq.log" >&2 || true
  exit 1
fi

echo "test/dnsmasq/run.sh: $("$DNSMASQ" --version | head -1) on 127.0.0.1:$port"
CORPC_TEST_DNS="127.0.0.1:$port" node --conditions=corpc-source --import tsx node_modules/uvu/bin.js test "resolver-records\.test\.ts$"
