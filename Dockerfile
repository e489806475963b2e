# aaos: the agentd supervisor in a container.
#   docker build -t aaos .
#   echo "write a one-line hello report" | docker run --rm -i aaos        # goals on stdin, exits when done
#   docker run -d --name aaos -v aaos-data:/data aaos run --bootstrap /app/manifests/bootstrap.yaml
#   docker exec aaos agentd submit "…"                                     # talk to the daemon's socket
# The base image is a build argument so that builds can use a local or mirrored Node image.
ARG NODE_IMAGE=node:22-bookworm-slim

# ── build: full dependencies, compile TypeScript, then drop dev dependencies ──
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workers ./workers
COPY web ./web
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ── runtime: production dependencies, built code, manifests and skills ────────
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM/SIGINT to agentd and reaps zombies
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    AAOS_DATA_DIR=/data \
    AAOS_SOCKET=/data/run/agentd.sock
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY manifests ./manifests
COPY skills ./skills
COPY roles ./roles
RUN ln -s /app/dist/src/cli/agentd.js /usr/local/bin/agentd \
 && chmod 755 /app/dist/src/cli/agentd.js \
 && mkdir -p /data \
 && chown node:node /data
USER node
VOLUME ["/data"]
# agentd health exits 0 only when the daemon answers on $AAOS_SOCKET
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["agentd", "health"]
ENTRYPOINT ["/usr/bin/tini", "--", "agentd"]
CMD ["run", "--bootstrap", "/app/manifests/bootstrap.yaml", "--stdin"]
