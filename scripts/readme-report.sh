#!/usr/bin/env bash
# Regenerates the example report in README.md ("The run report") from a
# real demo run: `psasync sync --demo --mode full`, each list cut to its
# first items so the example stays readable. TestREADMEExampleReportValidates
# checks the result against worker/report.schema.json.
set -euo pipefail
cd "$(dirname "$0")/.."
report=$(go run ./cmd/psasync sync --demo --mode full --progress never 2>/dev/null || true)
if [ -z "$report" ]; then
  echo "readme-report: the demo run printed no report" >&2
  exit 1
fi
example=$(jq '.created_contacts |= .[:2] | .updated_contacts |= .[:3] | .errors |= .[:2]
  | .warnings |= .[:2] | .skipped_contacts |= .[:2]' <<<"$report")
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
