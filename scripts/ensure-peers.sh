#!/usr/bin/env bash
# Installs the real peers that the compatibility tests run against (Debian's prometheus,
# victoria-metrics, prometheus-node-exporter, prometheus-alertmanager, chromium for the browser
# tests, dnsmasq for DNS discovery, wrk for the SDK's overhead benchmark, openssl for the TLS tests' certificates), when they are missing. Needs root, as on CI; says what to do otherwise.
set -euo pipefail
missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v vmagent >/dev/null 2>&1 || missing+=(victoria-metrics)
command -v victoria-metrics >/dev/null 2>&1 || missing+=(victoria-metrics)
command -v prometheus-node-exporter >/dev/null 2>&1 || missing+=(prometheus-node-exporter)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# dnsmasq-base: the dnsmasq binary alone (no system service), the DNS server of the dns_sd_configs tests.
[ -x /usr/sbin/dnsmasq ] || command -v dnsmasq >/dev/null 2>&1 || missing+=(dnsmasq-base)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
# The TLS tests make their certificates with the openssl command line.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" != "0" ]; then
  echo "ensure-peers: missing $pkgs; install them with: sudo apt-get install $pkgs" >&2
  exit 1
fi
echo "ensure-peers: installing $pkgs" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
# Debian's packages may start their services; the tests start their own instances.
for svc in prometheus victoria-metrics vmagent prometheus-node-exporter prometheus-alertmanager; do
  pkill -x "$svc" 2>/dev/null || true
done
