#!/usr/bin/env bash
# Build the local base image localhost/arena-base:bookworm (a stand-in for debian:bookworm-slim) without any registry:
# `debootstrap --variant=minbase bookworm` into a temporary folder, then `podman import`.
# Skips when the image already exists (ARENA_BASE_FORCE=1 rebuilds). Needs root, debootstrap and podman.
#
#   ARENA_DEBIAN_MIRROR           Debian mirror (default http://deb.debian.org/debian)
#   ARENA_DEBIAN_SECURITY_MIRROR  security mirror written to the image's apt sources
#                                 (default http://deb.debian.org/debian-security; empty = none)
#   ARENA_BASE_TAG                image name (default localhost/arena-base:bookworm)
set -euo pipefail

MIRROR="${ARENA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${ARENA_DEBIAN_SECURITY_MIRROR-http://deb.debian.org/debian-security}"
TAG="${ARENA_BASE_TAG:-localhost/arena-base:bookworm}"
SUITE=bookworm

for tool in podman debootstrap; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$tool is not installed: apt-get install -y podman runc debootstrap" >&2
        exit 1
    fi
done

if [ "${ARENA_BASE_FORCE:-0}" != 1 ] && podman image exists "$TAG"; then
    echo "$TAG already exists; skipping (ARENA_BASE_FORCE=1 rebuilds it)"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "debootstrap needs root" >&2
    exit 1
fi

ROOTFS="$(mktemp -d /tmp/arena-rootfs.XXXXXX)"
cleanup() { rm -rf --one-file-system "$ROOTFS"; }
trap cleanup EXIT

start=$(date +%s)
echo "debootstrap --variant=minbase $SUITE from $MIRROR ..."
debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR"
echo "debootstrap took $(($(date +%s) - start)) s"

# Same apt sources as debian:bookworm-slim, so images built FROM either base behave alike.
{
    echo "deb $MIRROR $SUITE main"
    echo "deb $MIRROR $SUITE-updates main"
    if [ -n "$SECURITY_MIRROR" ]; then
        echo "deb $SECURITY_MIRROR $SUITE-security main"
    fi
} >"$ROOTFS/etc/apt/sources.list"

# Keep the image small, as the official slim image does.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
    "$ROOTFS"/var/log/*.log "$ROOTFS"/var/log/apt/* "$ROOTFS"/tmp/* "$ROOTFS"/dev/*
: >"$ROOTFS/etc/hostname"
# A container engine supplies its own resolv.conf; the host's must not leak into the image.
rm -f "$ROOTFS/etc/resolv.conf"

start=$(date +%s)
tar --numeric-owner -C "$ROOTFS" -c . | podman import --change 'CMD ["/bin/bash"]' - "$TAG"
echo "podman import took $(($(date +%s) - start)) s"
podman image ls "$TAG"
