#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Code Arena uses, only those missing (idempotent; apt runs only when needed).
#   scripts/install-system-packages.sh run    # what `make run` needs: a sandbox (bubblewrap), socat
#   scripts/install-system-packages.sh test   # plus what the test suite drives: chromium, podman, debootstrap…
# Works as root or through sudo. Elsewhere (macOS, other distributions) it prints what to install and exits 0.
set -euo pipefail

profile="${1:-run}"
packages=(bubblewrap socat python3-venv curl ca-certificates)
if [ "$profile" = "test" ]; then
    packages+=(chromium podman runc uidmap debootstrap fonts-dejavu-core golang-go)
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    echo "note: not a Debian/Ubuntu system; install these yourself if you want them: ${packages[*]}"
    echo "      (on macOS, Docker Desktop provides the sandbox)"
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

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "warning: missing ${missing[*]} and not root (no sudo); install them to run code in a sandbox" >&2
        exit 0
    fi
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
