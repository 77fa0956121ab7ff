#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests when it is missing and we may
# (root with apt-get). Otherwise the browser tests skip and say why.
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: not root or no apt-get; browser tests will be skipped" >&2
  exit 0
fi
echo "ensure-chromium: installing Debian's chromium for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1 \
  || echo "ensure-chromium: install failed; browser tests will be skipped" >&2
exit 0
