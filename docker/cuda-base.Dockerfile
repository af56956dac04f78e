# The base for docker/Dockerfile's CUDA build: NVIDIA's CUDA 13 image with Python 3.11. NVIDIA's images have no
# Python and Ubuntu 24.04's is 3.12, while ltmm's stack is pinned and tested on 3.11, so 3.11 comes from the
# deadsnakes PPA and `python3` names it.
#
#   docker build -f docker/cuda-base.Dockerfile -t ltmm-cuda-base:13.0 docker/
#   docker build -f docker/cuda-base.Dockerfile --build-arg CUDA_IMAGE=nvidia/cuda:13.0.2-runtime-ubuntu24.04 \
#       -t ltmm-cuda-runtime:13.0 docker/          # optional: a smaller final stage (RUNTIME_BASE)
#
# torch 2.14.1+cu130 brings its own CUDA libraries; the devel image adds nvcc and the headers mmcv's kernels need.
ARG CUDA_IMAGE=nvidia/cuda:13.0.2-devel-ubuntu24.04
FROM ${CUDA_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
# Unpinned on purpose (DL3008): the CUDA image pins the Ubuntu release, and the mirror and the PPA keep only the
# latest build of each package, so a pinned version would stop building at the next update.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates software-properties-common \
    && add-apt-repository -y ppa:deadsnakes/ppa \
    && apt-get install -y --no-install-recommends python3.11 python3.11-venv python3.11-dev \
    && apt-get purge -y --autoremove software-properties-common \
    && rm -rf /var/lib/apt/lists/* \
    && ln -sf /usr/bin/python3.11 /usr/local/bin/python3 \
    && python3 --version
