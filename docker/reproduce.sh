#!/usr/bin/env bash
# Reproduce a config's published numbers: train with tools/dist_train.sh, test the last checkpoint, and record the
# metrics of the config's task (LVIS AP / APr / APc / APf; All / Many / Medium / Few accuracy; mAP / head / medium /
# tail) per seed, then the table over the seeds.
#
#   docker/reproduce.sh CONFIG GPUS [--seeds N] [--work-dir DIR] [train.py options, e.g. --amp]
#
# Seed s (0 .. N-1, default N = 1) runs in DIR/<config name>/seed<s> (DIR default: work_dirs/reproduce) with
# randomness.seed = s and writes there reproduce.json (metrics, versions, device) and reproduce.md (its table
# rows); DIR/<config name>/reproduction_<metric>.md is tools/analysis/summarize.py's table over the seeds
# (mean +- std). Without CUDA the GPUS processes train over gloo on the CPU. Made for the Docker image (see
# docker/README.md) and runs the same in a checkout (PYTHON, default: python).
set -euo pipefail
usage() { echo "usage: $0 CONFIG GPUS [--seeds N] [--work-dir DIR] [train.py options]" >&2; exit 2; }
[ $# -ge 2 ] || usage
CONFIG=$1
GPUS=$2
shift 2
SEEDS=1
WORK=work_dirs/reproduce
EXTRA=()
while [ $# -gt 0 ]; do
    case $1 in
        --seeds) [ $# -ge 2 ] || usage; SEEDS=$2; shift 2 ;;
        --work-dir) [ $# -ge 2 ] || usage; WORK=$2; shift 2 ;;
        *) EXTRA+=("$1"); shift ;;
    esac
done
[ -f "$CONFIG" ] || { echo "$0: no such config $CONFIG" >&2; exit 2; }
[[ $GPUS =~ ^[1-9][0-9]*$ ]] || { echo "$0: GPUS must be a positive integer, got '$GPUS'" >&2; exit 2; }
[[ $SEEDS =~ ^[1-9][0-9]*$ ]] || { echo "$0: --seeds must be a positive integer, got '$SEEDS'" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PYTHON=${PYTHON:-python}
NAME=$(basename "$CONFIG" .py)
OUT=$WORK/$NAME
log() { printf '[ltmm reproduce] %s\n' "$*"; }

case $CONFIG in  # the demo configs train on data the repository generates
    *configs/demo/*)
        [ -d data/lt_shapes ] || "$PYTHON" "$ROOT/tools/data/make_demo_data.py" lt_shapes --out-dir data/lt_shapes
        [ -d data/digits_lt ] || "$PYTHON" "$ROOT/tools/data/make_demo_data.py" digits_lt --out-dir data/digits_lt ;;
esac

RUNS=()
for ((seed = 0; seed < SEEDS; seed++)); do
    RUN=$OUT/seed$seed
    log "$NAME seed $seed/$SEEDS on $GPUS process(es): training into $RUN"
    "$ROOT/tools/dist_train.sh" "$CONFIG" "$GPUS" --work-dir "$RUN" --cfg-options randomness.seed="$seed" \
        "${EXTRA[@]}"
    CKPT=$(cat "$RUN/last_checkpoint")
    log "testing $CKPT"
    "$ROOT/tools/dist_test.sh" "$CONFIG" "$CKPT" "$GPUS" --work-dir "$RUN"
    "$PYTHON" "$ROOT/tools/analysis/reproduce_record.py" "$CONFIG" "$RUN" --seed "$seed" --gpus "$GPUS" \
        --checkpoint "$CKPT"
    RUNS+=("$RUN/reproduce.json")
done

for metric in $("$PYTHON" -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["metrics"]))' \
        "${RUNS[0]}"); do
    "$PYTHON" "$ROOT/tools/analysis/summarize.py" "${RUNS[@]}" --metric "$metric" -o "$OUT/reproduction_$metric.md"
done
log "records: $OUT/seed*/reproduce.json; tables: $OUT/reproduction_*.md"
