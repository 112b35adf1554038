# The one runtime image for every language, so a warm pool of identical containers can serve any run.
# Built by `python -m runtimes.images build` and tagged code-arena/runtime:<hash of this folder>; see README.md.
# BASE: debian:bookworm-slim from a registry, or localhost/arena-base:bookworm (scripts/build-base-image.sh).
ARG BASE=debian:bookworm-slim
FROM ${BASE}

ARG DEBIAN_FRONTEND=noninteractive
# PEM text of extra CA certificates for HTTPS during the build only (see with-build-ca.sh); empty almost everywhere.
ARG EXTRA_CA_CERTS=""

# 1. Debian packages (the slowest layer to rebuild, so first). /usr/share/man/man1 must exist for openjdk's postinst.
COPY dpkg-excludes /etc/dpkg/dpkg.cfg.d/arena-excludes
RUN mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates tini procps \
        python3 python3-venv python3-pip \
        nodejs npm \
        gcc g++ make libc6-dev \
        openjdk-17-jdk-headless \
        golang-go \
        rustc \
        fonts-dejavu-core \
        xvfb x11vnc socat \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log

# 2. Python packages in a venv that comes first on PATH.
COPY with-build-ca.sh /usr/local/lib/arena/with-build-ca.sh
COPY requirements.txt /usr/local/lib/arena/requirements.txt
RUN python3 -m venv /opt/venv \
    && sh /usr/local/lib/arena/with-build-ca.sh \
        /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
        -r /usr/local/lib/arena/requirements.txt \
    && rm -rf /root/.cache /tmp/*

# 3. Global npm tools: esbuild (fast transpile-only TypeScript/JSX) and typescript (tsc for type checks).
RUN sh /usr/local/lib/arena/with-build-ca.sh \
        npm install -g --no-fund --no-audit --no-update-notifier esbuild@^0.28.0 typescript@~5.9.0 \
    && npm cache clean --force \
    && rm -rf /root/.npm /tmp/*

# 3b. Web packages preinstalled for React/Vue/JS answers and previews (resolved through NODE_PATH).
COPY package.json /opt/node/package.json
RUN cd /opt/node && sh /usr/local/lib/arena/with-build-ca.sh \
        npm install --no-fund --no-audit --no-update-notifier --omit=dev \
    && npm cache clean --force \
    && rm -rf /root/.npm /tmp/*

# 4. The non-root user every program runs as, and the folders a run uses. Mode 1777 because Podman gives a tmpfs
#    mounted there the image folder's mode but root's ownership (and rejects tmpfs uid=), so only 1777 is writable.
RUN useradd --uid 1000 --user-group --create-home --home-dir /home/sandbox --shell /bin/bash sandbox \
    && mkdir -p /work /opt/deps \
    && chown sandbox:sandbox /work /opt/deps \
    && chmod 1777 /work /opt/deps

ENV PATH=/opt/venv/bin:$PATH \
    NODE_PATH=/opt/node/node_modules \
    VIRTUAL_ENV=/opt/venv \
    PYTHONUNBUFFERED=1 \
    MPLBACKEND=Agg \
    PIP_NO_CACHE_DIR=1 \
    SDL_AUDIODRIVER=dummy \
    HOME=/tmp

# tkinter/turtle programs (Debian's Tk for the system Python the venv is built on), run on a virtual display.
RUN apt-get update && apt-get install -y --no-install-recommends python3-tk xauth \
    && rm -rf /var/lib/apt/lists/*

# Matplotlib builds a font cache on first import (seconds). Build it once here; the Python recipe seeds each run's
# writable MPLCONFIGDIR from this read-only copy.
RUN mkdir -p /opt/mplconfig && MPLCONFIGDIR=/opt/mplconfig /opt/venv/bin/python -c "import matplotlib.pyplot" \
    && chmod -R a+rX /opt/mplconfig

USER sandbox
WORKDIR /work
# tini is PID 1: it forwards signals and reaps zombies. The default command keeps a pooled container alive for exec.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["sleep", "infinity"]
