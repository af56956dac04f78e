#!/usr/bin/env bash
# Distributed training with torchrun: tools/dist_train.sh CONFIG GPUS [train.py options]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT (as in mmdet). Without CUDA the processes talk over gloo, so
# `tools/dist_train.sh CONFIG 2` also runs on a CPU machine. PYTHON picks the interpreter (default: python).
exec "$(dirname "$0")/dist_launch.sh" train.py "$2" "$1" "${@:3}"
