#!/usr/bin/env bash
# Shared by dist_train.sh / dist_test.sh: dist_launch.sh SCRIPT GPUS [SCRIPT arguments]
# runs tools/SCRIPT on GPUS processes per node with torchrun and --launcher pytorch.
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT. Without CUDA the processes talk over gloo.
set -euo pipefail
SCRIPT=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$(dirname "$0")/$SCRIPT" "${@:3}" --launcher pytorch
