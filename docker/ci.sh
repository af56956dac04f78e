#!/usr/bin/env bash
# CI's Docker job (`make docker-test`): build the CPU image on a machine with no image registry and run
# tests/docker in it. As root it installs Debian's docker.io and debootstrap when missing, starts its own dockerd
# (own data root, exec root and socket; no bridge, no iptables) and stops it at the end; makes the Debian bookworm
# base with docker/make_base.sh; seeds the image's mmcv wheel cache with the wheels `make install` built.
#
#   make docker-test                    # or: VENV=.venv bash docker/ci.sh
#
# LTMM_DOCKER_STATE (default /tmp/ltmm-docker) keeps the engine's images between runs; DOCKER_HOST set to a running
# engine uses that one instead of starting one. Prints the build time and the image size.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV=${VENV:-.venv}
STATE=${LTMM_DOCKER_STATE:-/tmp/ltmm-docker}
IMAGE=${LTMM_DOCKER_IMAGE:-ltmm:ci}
BASE=${LTMM_DOCKER_BASE:-ltmm-base:bookworm}
WHEELS=${LTMM_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ltmm/wheels}
# Debian's client: it has BuildKit (another client on PATH may not)
export DOCKER=${DOCKER:-$( [ -x /usr/bin/docker ] && echo /usr/bin/docker || command -v docker)}
log() { printf '[ltmm docker-ci] %s\n' "$*"; }

need=()
[ -x /usr/sbin/dockerd ] || [ -n "${DOCKER_HOST:-}" ] || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { log "needs ${need[*]} (apt-get install ${need[*]}, as root)"; exit 1; }
    log "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    export DOCKER=/usr/bin/docker
fi

if [ -z "${DOCKER_HOST:-}" ]; then
    mkdir -p "$STATE"
    export DOCKER_HOST="unix://$STATE/docker.sock"
    log "starting dockerd (data root $STATE/data, log $STATE/dockerd.log)"
    /usr/sbin/dockerd --data-root "$STATE/data" --exec-root "$STATE/exec" --pidfile "$STATE/docker.pid" \
        -H "$DOCKER_HOST" --bridge=none --iptables=false >"$STATE/dockerd.log" 2>&1 &
    DOCKERD=$!
    trap 'kill "$DOCKERD" 2>/dev/null; wait "$DOCKERD" 2>/dev/null || true' EXIT
    for _ in $(seq 60); do "$DOCKER" info >/dev/null 2>&1 && break; sleep 1; done
    "$DOCKER" info >/dev/null || { tail -20 "$STATE/dockerd.log"; log "dockerd did not start"; exit 1; }
fi

if ! "$DOCKER" image inspect "$BASE" >/dev/null 2>&1; then
    log "making the base image $BASE"
    bash docker/make_base.sh "$BASE"
fi

seeded=()
for dir in "$WHEELS"/torch-*/; do  # the mmcv wheels make install built, each in its key folder
    [ -d "$dir" ] || continue
    dest=docker/wheels/$(basename "$dir")
    [ -d "$dest" ] && continue
    cp -r "$dir" "$dest" && seeded+=("$dest")
done
trap_seeded() { [ ${#seeded[@]} -eq 0 ] || rm -rf "${seeded[@]}"; }

log "building $IMAGE"
start=$(date +%s)
DOCKER_BUILDKIT=1 "$DOCKER" build --network host --progress plain -f docker/Dockerfile --build-arg BASE="$BASE" \
    -t "$IMAGE" . || { trap_seeded; exit 1; }
trap_seeded
log "built in $(( $(date +%s) - start )) s; $IMAGE: $("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE" \
    | awk '{printf "%.2f GB", $1 / 1e9}')"

LTMM_DOCKER_IMAGE=$IMAGE "$VENV/bin/python" -m pytest -q tests/docker
