#!/usr/bin/env bash
# Installs what the harness needs, once: Debian packages and, for the CUDA leg,
# PyPI's torch in .venv. Idempotent and quiet: one line per step.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# PyPI's torch pinned to the GPU runner's version (torch 2.11.0+cu130).
TORCH_PIN=${TORCH_PIN:-2.11.0}
DEBIAN_PACKAGES=(
  bazel-bootstrap bazel-rules-cc bazel-platforms bazel-skylib bazel-rules-java
  libtorch-dev libgtest-dev libgmock-dev libyaml-cpp-dev nlohmann-json3-dev
  libcli11-dev libbenchmark-dev python3-venv zip unzip
  chromium  # report_views_test opens report.html headless
)
# The workflow linter for examples/ci (PyPI; its schemas ship inside it).
CHECK_JSONSCHEMA_PIN=0.39.0
# huggingface's safetensors, for tools/strategies/safetensors_load.py.
SAFETENSORS_PIN=0.8.0
# NumPy: torch.distributed.checkpoint needs it (tools/strategies/dcp_load.py).
NUMPY_PIN=2.4.6

step() { printf 'setup: %-44s' "$1"; }

step "Debian packages (${#DEBIAN_PACKAGES[@]})"
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "present"
else
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log=$(mktemp)
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
    echo "FAILED"; tail -20 "$log" >&2; exit 1
  fi
  echo "installed ${missing[*]}"
fi

# One PyPI package at its pin in .venv: "present" when importlib.metadata
# reports that version already.
pypi_step() {
  local dist=$1 pin=$2 py="$root/.venv/bin/python3"
  step "$dist==$pin in .venv"
  if [ -x "$py" ] && "$py" -c "import importlib.metadata as m, sys; sys.exit(m.version('$dist').split('+')[0] != '$pin')" 2>/dev/null; then
    echo "present"
    return
  fi
  local log
  log=$(mktemp)
  if ! { [ -x "$py" ] || python3 -m venv "$root/.venv"; } >"$log" 2>&1 ||
     ! "$root/.venv/bin/pip" install -q --disable-pip-version-check "$dist==$pin" >"$log" 2>&1; then
    echo "FAILED"; tail -20 "$log" >&2; exit 1
  fi
  echo "installed"
}

pypi_step torch "$TORCH_PIN"              # CUDA leg, Python loaders
pypi_step safetensors "$SAFETENSORS_PIN"  # safetensors_load.py
pypi_step numpy "$NUMPY_PIN"              # dcp_load.py (torch.distributed.checkpoint)
pypi_step check-jsonschema "$CHECK_JSONSCHEMA_PIN"  # tools/ci/lint_workflow.sh
