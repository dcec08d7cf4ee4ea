#!/usr/bin/env bash
# Mutation testing of the model: mutmut mutates every function of sim/mechanisms/ and
# sim/model.py (configuration: [tool.mutmut] in pyproject.toml) and runs the fast
# model-level tests (tests/mechanisms, tests/test_model.py, tests/test_invariants*.py,
# tests/test_wiring.py) against each mutant. A mutant is killed when a test fails.
#
#   pip install -e ".[mutation]"     # once
#   scripts/mutation.sh [WORKERS]    # default 2; results are cached in mutants/, so an
#                                    # interrupted run resumes where it stopped
#   .venv/bin/mutmut results         # the surviving mutants; mutmut show NAME for a diff
#
# Under mutmut the property tests report a failing config without shrinking it (see
# tests/test_invariants_properties.py). Survivors that no honest test can kill are explained
# in docs/guarantees.md (section 4).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
workers=${1:-2}
export MPLBACKEND=Agg
start=$(date +%s)
"$PY" -m mutmut run --max-children "$workers"
"$PY" -m mutmut export-cicd-stats >/dev/null
"$PY" - "$start" <<'PYTHON'
import json, sys, time
stats = json.load(open("mutants/mutmut-cicd-stats.json"))
killed, survived = stats["killed"], stats["survived"]
other = {k: v for k, v in stats.items() if k not in ("killed", "survived", "total") and v}
checked = killed + survived
print(f"mutants: {stats['total']}, killed {killed}, survived {survived}, other {other}")
if checked:
    print(f"kill rate: {killed / checked:.1%} of {checked} checked mutants")
print(f"time: {(time.time() - float(sys.argv[1])) / 60:.1f} min")
PYTHON
