# maestro-eval workers, dashboard and simulator: one image, `node bin/maestro-eval.js <command>`.
# The first stage bundles the TypeScript into dist/ (`npm run build`, esbuild); the second installs the
# production dependencies only; the image runs dist/ (the sources stay beside it for the data
# files they hold, and for tsx should dist/ be missing).
#
#   docker build -t maestro-eval:local .
#   docker run --rm maestro-eval:local --help

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY skills ./skills
COPY benchmarks ./benchmarks
# `npm ci` runs `prepare`, which builds dist/.
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
# Production dependencies only (sharp's prebuilt linux binaries come with it); with no
# sources in this stage, `prepare` has nothing to bundle and skips the build.
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
# Fonts for the text in rendered fixture images and report charts (librsvg through sharp).
RUN apt-get update \
  && apt-get install -y --no-install-recommends fonts-dejavu-core \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
  MAESTRO_DEV=0 \
  MAESTRO_DATA_DIR=/data \
  MAESTRO_METRICS_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY skills ./skills
COPY benchmarks ./benchmarks
COPY registry ./registry
COPY sweeps ./sweeps
COPY --from=build /app/dist ./dist
# A named volume mounted on /data starts with this directory's owner: the unprivileged user.
# dist/code-cache/ too: each command's first run saves its compiled code there (README, Start-up).
RUN mkdir -p /data /app/dist/code-cache && chown node:node /data /app/dist/code-cache
USER node
# Worker metrics (MAESTRO_METRICS_PORT), dashboard, simulated servers.
EXPOSE 9464 8080 8990
ENTRYPOINT ["node", "bin/maestro-eval.js"]
CMD ["--help"]
