#!/usr/bin/env bash
# Serve Podman's Docker-compatible API on unix:///run/podman/podman.sock (idempotent).
# - writes /etc/containers/containers.conf (runc, cgroupfs, no default ulimits) when it is absent:
#   crun fails on hybrid cgroups and podman's default ulimits fail with "setrlimit ... Operation not permitted";
# - starts `podman system service` in the background unless the socket already answers;
# - waits until the socket answers (at most PODMAN_WAIT_S seconds, default 30).
# Afterwards: export DOCKER_HOST=unix:///run/podman/podman.sock (runtimes.detect also finds the socket by itself).
set -euo pipefail

SOCK_PATH="${PODMAN_SOCKET:-/run/podman/podman.sock}"
CONF=/etc/containers/containers.conf
LOG="${PODMAN_LOG:-/tmp/podman-service.log}"
WAIT_S="${PODMAN_WAIT_S:-30}"

if ! command -v podman >/dev/null 2>&1; then
    echo "podman is not installed: apt-get install -y podman runc" >&2
    exit 1
fi

if [ ! -e "$CONF" ]; then
    mkdir -p "$(dirname "$CONF")"
    printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n' >"$CONF"
    echo "wrote $CONF"
fi

answers() {
    # GET /_ping answers "OK" when the API is up (curl if present, else python3: a fresh machine may lack curl).
    [ -S "$SOCK_PATH" ] || return 1
    if command -v curl >/dev/null 2>&1; then
        curl -sf --max-time 2 --unix-socket "$SOCK_PATH" http://d/_ping >/dev/null 2>&1
    else
        python3 - "$SOCK_PATH" >/dev/null 2>&1 <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
sys.exit(0 if s.recv(64).split()[1:2] == [b"200"] else 1)
EOF
    fi
}

if answers; then
    echo "podman API already answers on $SOCK_PATH"
    exit 0
fi

mkdir -p "$(dirname "$SOCK_PATH")"
rm -f "$SOCK_PATH"
# setsid + nohup: the service outlives this script and the shell that ran it.
# From /: a daemon must not hold the caller's folder, and conmon writes files such as "oom" into its working folder.
(cd / && setsid nohup podman system service --time=0 "unix://$SOCK_PATH" >>"$LOG" 2>&1 </dev/null &)
echo "started podman system service, log in $LOG"

for _ in $(seq 1 $((WAIT_S * 10))); do
    if answers; then
        echo "podman API answers on $SOCK_PATH"
        exit 0
    fi
    sleep 0.1
done
echo "podman API did not answer on $SOCK_PATH within ${WAIT_S}s; see $LOG" >&2
exit 1
