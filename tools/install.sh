#!/usr/bin/env bash
# Create (or update) the virtual environment ltmm runs in: torch + torchvision, mmcv 2.1.0 built with its ops,
# mmengine / mmdet / mmpretrain / lvis, and ltmm in editable mode. Idempotent: a second run only checks.
#
#   VENV=.venv PYTHON=python3 bash tools/install.sh
#
# The mmcv wheel is built once per (mmcv, torch, python, ops) and kept in $LTMM_WHEEL_CACHE (default
# ~/.cache/ltmm/wheels/): CPU ops in torch-<torch version>/, CUDA ops (FORCE_CUDA=1 or a visible GPU) in
# torch-<torch version>-cuda<nvcc release>-sm<archs>/, so a torch upgrade or a CUDA build never loads a stale or
# CPU-only binary. LTMM_DEPS_ONLY=1 stops before ltmm itself (the Docker image installs it in a later layer).
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
# mmcv compiles CUDA kernels exactly when FORCE_CUDA=1 or torch sees a GPU (its setup.py); such a wheel is keyed by
# the nvcc release and the arch list, which defaults to the architectures torch itself is built for
OPS_KEY="$("$PY" - <<'EOF'
import os
import re
import subprocess

import torch

if os.environ.get('FORCE_CUDA', '0') == '1' or torch.cuda.is_available():
    from torch.utils.cpp_extension import CUDA_HOME
    if CUDA_HOME is None:
        raise SystemExit('[ltmm install] CUDA ops asked for (FORCE_CUDA=1 or a visible GPU) but no CUDA toolkit '
                         'was found: set CUDA_HOME to a CUDA devel install')
    nvcc = subprocess.run([os.path.join(CUDA_HOME, 'bin', 'nvcc'), '--version'], capture_output=True, text=True)
    release = re.search(r'release (\d+\.\d+)', nvcc.stdout)
    archs = os.environ.get('TORCH_CUDA_ARCH_LIST') or ' '.join(
        f'{a[3:-1]}.{a[-1]}' for a in torch._C._cuda_getArchFlags().split() if a.startswith('sm_'))
    print(f"cuda{release.group(1) if release else 'unknown'}|{archs}")
EOF
)"
if [ -n "$OPS_KEY" ]; then
    export TORCH_CUDA_ARCH_LIST="${OPS_KEY#*|}"
    WHEEL_DIR="$CACHE_ROOT/torch-$TORCH_VERSION-${OPS_KEY%%|*}-sm$(printf '%s' "$TORCH_CUDA_ARCH_LIST" | tr -d '.+' | tr ' ;' '__')"
    OPS_NAME="CUDA ops (${OPS_KEY%%|*}, TORCH_CUDA_ARCH_LIST=\"$TORCH_CUDA_ARCH_LIST\")"
else
    WHEEL_DIR="$CACHE_ROOT/torch-$TORCH_VERSION"
    OPS_NAME="CPU ops"
fi

mmcv_ok() {
    "$PY" - "$MMCV_VERSION" "$TORCH_VERSION" "${OPS_KEY:+cuda}" <<'EOF' 2>/dev/null
import sys
import torch
import mmcv
from mmcv.ops import get_compiling_cuda_version, nms  # noqa: F401  (fails when the ops were not built)
assert mmcv.__version__ == sys.argv[1], mmcv.__version__
assert torch.__version__ == sys.argv[2]
assert (get_compiling_cuda_version() != 'not available') == (sys.argv[3] == 'cuda')  # the ops kind asked for
EOF
}

if mmcv_ok; then
    log "mmcv $MMCV_VERSION with $OPS_NAME already installed for torch $TORCH_VERSION"
else
    WHEEL="$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-"$PY_TAG"-*.whl 2>/dev/null | head -n 1 || true)"
    if [ -z "$WHEEL" ]; then
        log "building mmcv $MMCV_VERSION with $OPS_NAME for torch $TORCH_VERSION (CPU ops: about 10-15 minutes on 2 cores)"
        BUILD="$(mktemp -d)"
        trap 'rm -rf "$BUILD"' EXIT
        "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation -d "$BUILD" "mmcv==$MMCV_VERSION"
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

if [ "${LTMM_DEPS_ONLY:-0}" = 1 ]; then
    log "dependencies installed (LTMM_DEPS_ONLY=1: not ltmm itself)"
    exit 0
fi
log "ltmm (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"
"$PY" -c 'import ltmm, mmdet, mmpretrain, mmcv, torch; print("ltmm", ltmm.__version__, "| torch", torch.__version__,
"| mmcv", mmcv.__version__, "| mmdet", mmdet.__version__, "| mmpretrain", mmpretrain.__version__)'
