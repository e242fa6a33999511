#!/usr/bin/env bash
# Regenerates the example report in README.md ("The run report") from a
# real demo run: `psasync sync --demo --mode full`, each list cut to one item per
# action, code or reason so the example stays readable. TestREADMEExampleReportValidates
# checks the result against worker/report.schema.json.
set -euo pipefail
cd "$(dirname "$0")/.."
report=$(go run ./cmd/psasync sync --demo --mode full --progress never 2>/dev/null || true)
if [ -z "$report" ]; then
  echo "readme-report: the demo run printed no report" >&2
  exit 1
fi
# One item per action, error code, warning code and skip reason.
example=$(jq '.created_contacts |= .[:1]
  | .updated_contacts |= [group_by(.action)[] | .[0]]
  | .errors |= [group_by(.code)[] | .[0]]
  | .warnings |= [group_by(.code)[] | .[0]]
  | .skipped_contacts |= ([group_by(.reason)[] | .[0]] | .[:3])' <<<"$report")
EXAMPLE="$example" python3 - <<'PY'
import os, re
readme = open("README.md").read()
head, sep, rest = readme.partition("\n## The run report\n")
if not sep:
    raise SystemExit("readme-report: README has no 'The run report' section")
before, fence, after = rest.partition("```json\n")
_, end, tail = after.partition("\n```")
if not fence or not end:
    raise SystemExit("readme-report: the section has no json block")
open("README.md", "w").write(head + sep + before + fence + os.environ["EXAMPLE"] + end + tail)
PY
echo "readme-report: README.md updated"
