#!/usr/bin/env bash
# Create (or update) the virtual environment ltmm runs in: torch + torchvision, mmcv 2.1.0 built with its ops,
# mmengine / mmdet / mmpretrain / lvis, and ltmm in editable mode. Idempotent: a second run only checks.
#
#   VENV=.venv PYTHON=python3 bash tools/install.sh
#
# The mmcv wheel is built once per (mmcv, torch, python) and kept in $LTMM_WHEEL_CACHE
# (default ~/.cache/ltmm/wheels/torch-<torch version>/), so a torch upgrade can never load a stale binary.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
MMCV_VERSION="2.1.0"
CACHE_ROOT="${LTMM_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ltmm/wheels}"

log() { printf '[ltmm install] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

log "torch / torchvision"
"${PIP[@]}" install -q -r "$ROOT/requirements/torch.txt"
log "build prerequisites (setuptools<81, ninja, opencv-python-headless)"
"${PIP[@]}" install -q -r "$ROOT/requirements/build.txt"

log "run-time dependencies, then mmengine / mmdet / mmpretrain / lvis (no deps)"
# build.txt again: pip's resolver ignores what is installed, so its pins (setuptools<81, the headless OpenCV)
# must be part of this request or a run-time dependency could upgrade them away
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt" \
    -r "$ROOT/requirements/build.txt"
"${PIP[@]}" install -q --no-deps -r "$ROOT/requirements/openmmlab.txt"

TORCH_VERSION="$("$PY" -c 'import torch; print(torch.__version__)')"
PY_TAG="$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
WHEEL_DIR="$CACHE_ROOT/torch-$TORCH_VERSION"

mmcv_ok() {
    "$PY" - "$MMCV_VERSION" "$TORCH_VERSION" <<'EOF' 2>/dev/null
import sys
import torch
import mmcv
from mmcv.ops import nms  # noqa: F401  (fails when the ops were not built)
assert mmcv.__version__ == sys.argv[1], mmcv.__version__
assert torch.__version__ == sys.argv[2]
EOF
}

if mmcv_ok; then
    log "mmcv $MMCV_VERSION with ops already installed for torch $TORCH_VERSION"
else
    WHEEL="$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-"$PY_TAG"-*.whl 2>/dev/null | head -n 1 || true)"
    if [ -z "$WHEEL" ]; then
        log "building mmcv $MMCV_VERSION with ops for torch $TORCH_VERSION (about 10-15 minutes on 2 cores)"
        BUILD="$(mktemp -d)"
        trap 'rm -rf "$BUILD"' EXIT
        "${PIP[@]}" download -q --no-deps --no-binary :all: -d "$BUILD" "mmcv==$MMCV_VERSION"
        tar -xzf "$BUILD"/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD"
        SRC="$BUILD/mmcv-$MMCV_VERSION"
        # torch >= 2.14's headers refuse anything older than C++20; mmcv 2.1.0 forces -std=c++17 (or c++14).
        sed -i -E 's/-std=c\+\+1[147]/-std=c++20/g' "$SRC/setup.py"
        grep -q -- '-std=c++20' "$SRC/setup.py" || { log "could not raise mmcv's C++ standard"; exit 1; }
        mkdir -p "$WHEEL_DIR"
        MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
            "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$BUILD/dist" "$SRC"
        mv "$BUILD"/dist/mmcv-*.whl "$WHEEL_DIR/"
        WHEEL="$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-"$PY_TAG"-*.whl | head -n 1)"
    fi
    log "installing $WHEEL"
    "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEEL"
    mmcv_ok || { log "mmcv $MMCV_VERSION does not import with its ops"; exit 1; }
fi

log "ltmm (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"
"$PY" -c 'import ltmm, mmdet, mmpretrain, mmcv, torch; print("ltmm", ltmm.__version__, "| torch", torch.__version__,
"| mmcv", mmcv.__version__, "| mmdet", mmdet.__version__, "| mmpretrain", mmpretrain.__version__)'
