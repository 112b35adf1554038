#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Code Arena uses: only those missing, so a second run does not touch apt.
#   scripts/install-system-packages.sh venv   # just what `python3 -m venv` needs (python3-venv)
#   scripts/install-system-packages.sh run    # what `make run` needs: a sandbox (bubblewrap), socat, a C++ compiler
#                                             # for the built-in model; plus Podman when ARENA_SANDBOX=docker
#                                             # and no Docker engine is configured
#   scripts/install-system-packages.sh podman # Podman serving the Docker API: podman runc uidmap
#   scripts/install-system-packages.sh test   # plus what the test suite drives: chromium, podman, debootstrap, ...
# Works as root or through sudo; prints what it does. Elsewhere (macOS, other distributions) it prints what to
# install and exits 0. Packages are installed with their recommends, as checked on Debian 12 (podman's matter).
set -euo pipefail

profile="${1:-run}"
container_packages=(podman runc uidmap)
case "$profile" in
    venv) packages=(python3-venv) ;;
    run)
        packages=(python3-venv bubblewrap socat curl ca-certificates g++ make cmake)
        if [ "${ARENA_SANDBOX:-}" = docker ] && [ -z "${DOCKER_HOST:-}" ] && [ ! -S /var/run/docker.sock ]; then
            packages+=("${container_packages[@]}")
        fi
        ;;
    podman) packages=("${container_packages[@]}") ;;
    test)
        packages=(python3-venv bubblewrap socat curl ca-certificates g++ make cmake
            "${container_packages[@]}" debootstrap chromium fonts-dejavu-core golang-go python3-tk xvfb xauth)
        ;;
    *)
        echo "usage: $0 venv|run|podman|test" >&2
        exit 2
        ;;
esac

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    if [ "$(uname -s)" = Darwin ]; then
        echo "system packages: nothing to install on macOS; Docker Desktop provides the sandbox."
    else
        echo "system packages: not a Debian/Ubuntu system; install the equivalents of: ${packages[*]}"
    fi
    exit 0
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: all present (${packages[*]})"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "system packages: missing ${missing[*]}, and this is neither root nor has sudo; install them yourself" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "system packages: apt-get update"
${sudo[@]+"${sudo[@]}"} apt-get update -qq
echo "system packages: apt-get install -y ${missing[*]}"
${sudo[@]+"${sudo[@]}"} apt-get install -y -qq "${missing[@]}"
echo "system packages: installed ${missing[*]}"
