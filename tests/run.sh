#!/usr/bin/env bash
# The whole test suite: lint, Python unit/interop/host/installer tests, extension unit tests, and
# real-browser end-to-end tests (headless Chromium and Firefox). Installs what it needs first.
#   bash tests/run.sh            everything
#   bash tests/run.sh -k png     extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
export PATH="$PWD/.venv/bin:$PWD/node_modules/.bin:$PATH"

status=0
echo "== ruff"
ruff check host tests || status=1
ruff format --check host tests || status=1
echo "== web-ext lint"
web-ext lint --source-dir extension --self-hosted --output text || status=1
echo "== node --test"
node --test tests/extension/ || status=1
echo "== pytest"
python -m pytest -p no:cacheprovider "$@" || status=1
exit $status
