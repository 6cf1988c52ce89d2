#!/usr/bin/env bash
# Stress tests: kill -9 during saves, load (1,000 images through one connection and through
# 1,000 one-shot hosts), a bounded atheris run, and the hypothesis fuzzers at 10x their examples.
# Each part is bounded (about two minutes); the whole run takes about 10 minutes.
# Needs root for the tmpfs fault tests (they skip otherwise) and `pip install atheris`.
#   bash tests/stress/run.sh              everything
#   bash tests/stress/run.sh -k load      extra arguments go to pytest
# Figures are printed (FIGURES {...}) and appended to $DSEXPORT_STRESS_RESULTS
# (default /tmp/dsexport-stress-results.jsonl); docs/reliability.md explains each.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DSEXPORT_STRESS_RESULTS="${DSEXPORT_STRESS_RESULTS:-/tmp/dsexport-stress-results.jsonl}"
python -c 'import atheris' 2>/dev/null || python -m pip install -q atheris
status=0
python -m pytest -p no:cacheprovider -s -m stress tests/stress "$@" || status=1
# The normal-suite fuzzers with ten times the examples, with hypothesis' counts.
DSEXPORT_FUZZ_EXAMPLES=3000 python -m pytest -p no:cacheprovider -q --hypothesis-show-statistics \
  tests/host/test_fuzz_images.py tests/host/test_fuzz_frames.py tests/host/test_fuzz_requests.py \
  tests/host/test_path_attacks.py tests/host/test_faults.py "$@" || status=1
exit $status
