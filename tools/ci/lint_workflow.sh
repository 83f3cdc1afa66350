#!/usr/bin/env bash
# Checks examples/ci/*.yml against the GitHub Actions workflow schema that
# check-jsonschema ships (PyPI, in .venv; works offline), and checks once
# that a broken workflow fails the same check.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
lint="$root/.venv/bin/check-jsonschema"
[ -x "$lint" ] || { echo "lint_workflow: $lint missing; tools/setup.sh installs it"; exit 1; }
check() { "$lint" --builtin-schema vendor.github-workflows "$@"; }
status=0
for workflow in "$root"/examples/ci/*.yml; do
  check "$workflow" >/dev/null 2>"$root/.lint_workflow.err" || { cat "$root/.lint_workflow.err"; check "$workflow"; status=1; }
done
rm -f "$root/.lint_workflow.err"
# A job without runs-on is no workflow: the check must say so.
broken=$(mktemp --suffix=.yml)
sed '/^    runs-on: ubuntu-24.04$/d' "$root/examples/ci/github-actions.yml" >"$broken"
if check "$broken" >/dev/null 2>&1; then
  echo "lint_workflow: a job without runs-on passed the schema check"
  status=1
fi
rm -f "$broken"
[ "$status" -eq 0 ] && echo "lint_workflow: examples/ci/*.yml match the GitHub Actions workflow schema"
exit $status
