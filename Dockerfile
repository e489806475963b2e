# aaos: the agentd daemon in a container (README.md, "Docker"; docs/deployment.md).
#   docker build -t aaos .                     # podman: podman build --format docker -t aaos .
#   docker run -d --name aaos -v aaos-data:/data aaos          # serves /data/run/agentd.sock
#   docker exec aaos agentd submit "Summarise the files in /data/inbox"
#   echo "a goal" | docker run --rm -i aaos run --stdin        # goals on stdin, exits when done
# The base image is a build argument so that builds can use a local or mirrored Node image.
ARG NODE_IMAGE=node:22-bookworm-slim

# ── deps: production dependencies only, from the lock file ───────────────────
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ── build: every dependency, compile TypeScript to dist/; tini from Debian ────
FROM ${NODE_IMAGE} AS build
# only this stage uses apt: the runtime copies the static tini binary, not apt's lists or cache
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workers ./workers
COPY web ./web
RUN npm run build

# ── runtime: production dependencies, built code, manifests, skills, roles ───
FROM ${NODE_IMAGE} AS runtime
ARG NODE_IMAGE
# keep in step with package.json (test/cli/dockerfile.test.ts checks); the check script passes REVISION
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="aaos" \
      org.opencontainers.image.description="agentd: an agent runtime where agents are worker-thread actors and capabilities replace permissions" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
ENV NODE_ENV=production \
    AAOS_DATA_DIR=/data \
    AAOS_SOCKET=/data/run/agentd.sock
WORKDIR /app
# tini as PID 1 forwards SIGTERM/SIGINT to agentd and reaps zombies
COPY --from=build /usr/bin/tini-static /usr/bin/tini
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY manifests ./manifests
COPY skills ./skills
COPY roles ./roles
COPY deploy/docker/entrypoint.sh /usr/local/bin/aaos-entrypoint
RUN ln -s /app/dist/src/cli/agentd.js /usr/local/bin/agentd \
 && chmod 755 /app/dist/src/cli/agentd.js /usr/local/bin/aaos-entrypoint \
 && mkdir -p /data \
 && chown node:node /data
VOLUME ["/data"]
# One `agentd health` process per probe: it opens one socket connection, reads the answer and
# exits, which closes it (the daemon's connection count does not grow). Exit 0 only when the
# daemon answers `ok`; podman keeps HEALTHCHECK only with `podman build --format docker`.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["agentd", "health"]
# The entrypoint starts as root only to give /data to uid 1000 (`node`), then drops root for
# good before agentd starts (deploy/docker/entrypoint.sh); `--user 1000:1000` skips that step.
ENTRYPOINT ["/usr/bin/tini", "--", "aaos-entrypoint"]
# the daemon: serves the socket in /data with the bundled bootstrap agent; `run --stdin` for a pipe
CMD ["run"]
