#!/usr/bin/env bash
# A minimal Debian bookworm base image made locally, for machines that reach Debian's mirror but no image registry:
# Debian's python3 (3.11, the version ltmm's stack is pinned and tested on), python3-venv and CA certificates.
#
#   sudo docker/make_base.sh [TAG]          # default TAG: ltmm-base:bookworm
#   docker build -f docker/Dockerfile --build-arg BASE=ltmm-base:bookworm -t ltmm .
#
# Needs root, debootstrap and a Docker engine (DOCKER picks the client, default: docker). The machine's extra CA
# certificates (/usr/local/share/ca-certificates/*.crt) are copied in, so pip and apt behind a TLS-inspecting
# proxy work during the build. DEBIAN_MIRROR picks the mirror (default: http://deb.debian.org/debian).
set -euo pipefail
TAG=${1:-ltmm-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DOCKER=${DOCKER:-docker}
log() { printf '[ltmm make_base] %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { log "debootstrap needs root"; exit 1; }
command -v debootstrap >/dev/null || { log "debootstrap is not installed (Debian/Ubuntu: apt-get install debootstrap)"; exit 1; }

ROOTFS=$(mktemp -d)
trap 'rm -rf "$ROOTFS" "$ROOTFS.log"' EXIT
log "debootstrap bookworm from $MIRROR into $ROOTFS"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$ROOTFS" "$MIRROR" \
    >"$ROOTFS.log" 2>&1 || { tail -20 "$ROOTFS.log"; log "debootstrap failed"; exit 1; }
cat > "$ROOTFS/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
SOURCES
cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/" 2>/dev/null || true
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
log "security updates and CA certificates"
chroot "$ROOTFS" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq \
    && update-ca-certificates && apt-get clean && rm -rf /var/lib/apt/lists/*' >"$ROOTFS.log" 2>&1 \
    || { cat "$ROOTFS.log"; log "updating the base failed"; exit 1; }
rm -f "$ROOTFS.log"
: > "$ROOTFS/etc/resolv.conf"
log "importing as $TAG"
tar -C "$ROOTFS" -c . | "$DOCKER" import --change 'ENV LANG=C.UTF-8' --change 'CMD ["bash"]' - "$TAG" >/dev/null
"$DOCKER" run --rm "$TAG" python3 --version
