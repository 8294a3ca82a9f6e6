#!/usr/bin/env bash
# Takes the README's screenshots (docs/screenshots/*.png) from the running demo in headless
# Chromium: its crew answering, its callers in the queues. Needs chromium (make test installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/screenshots
HOTLINE_SCREENSHOTS="$PWD/docs/screenshots" go test -count=1 -run '^TestScreenshots$' -v ./e2e/ | grep -E 'wrote|^(ok|FAIL|---)'
