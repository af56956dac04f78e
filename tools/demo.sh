#!/usr/bin/env bash
# The `make demo` job: generate the embedded long-tailed data, train a Mask R-CNN on LT-Shapes and score it the
# LVIS way (AP, APr, APc, APf + per-class AP plot), then a Digits-LT classifier scored by many/medium/few accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
WORK=${WORK_DIR:-work_dirs/demo}
DET_CFG=configs/demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py
CLS_CFG=configs/demo/lenet_digits-lt.py
start=$(date +%s)

echo "== [1/5] LT-Shapes (synthetic, LVIS v1 format) and Digits-LT (scikit-learn digits, long-tailed)"
"$PY" tools/data/make_demo_data.py lt_shapes --out-dir data/lt_shapes
"$PY" tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt
"$PY" tools/data/class_stats.py data/lt_shapes/annotations/lt_shapes_train.json -o "$WORK/lt_shapes_class_stats.json"

echo "== [2/5] training $DET_CFG (CPU)"
"$PY" tools/train.py "$DET_CFG" --work-dir "$WORK/det"

echo "== [3/5] testing the last checkpoint with LVIS metrics (FastLVISMetric: per-class AP json + PNG in $WORK/det)"
"$PY" tools/test.py "$DET_CFG" "$(cat "$WORK/det/last_checkpoint")" --work-dir "$WORK/det" \
    --cfg-options test_evaluator.outfile_prefix="$WORK/det/results" test_evaluator.per_class_dir="$WORK/det"
"$PY" tools/analysis/summarize.py "$WORK/det" --metric bbox --name lt-shapes-demo

echo "== [4/5] training $CLS_CFG (CPU)"
"$PY" tools/train.py "$CLS_CFG" --work-dir "$WORK/cls"

echo "== [5/5] testing on the balanced Digits-LT test split: many / medium / few-shot accuracy"
"$PY" tools/test.py "$CLS_CFG" "$(cat "$WORK/cls/last_checkpoint")" --work-dir "$WORK/cls" \
    --cfg-options test_evaluator.plot_dir="$WORK/cls"

echo "== demo finished in $(( $(date +%s) - start )) s; plots: $WORK/det/per_class_{bbox,segm}_ap.png, $WORK/cls/per_class_accuracy.png"
