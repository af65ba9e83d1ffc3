# The tsmesh image: one executable for the control plane (`tsmesh control`), the sidecar
# (`tsmesh proxy`) and its init container (`tsmesh iptables`). From the repository root:
#   docker build -t REGISTRY/tsmesh:0.1.0 .
# deploy/kubernetes/README.md says how to run it.

# Build: TypeScript → dist/ (the compiler is a dev dependency, so it stays in this stage).
FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json
# The bundle `tsmesh proxy` runs from (src/cli/proxy-bundle.ts; esbuild is a dev dependency too).
RUN node --input-type=module -e "const { buildProxyBundle } = await import('./dist/src/cli/proxy-bundle.js'); await buildProxyBundle(process.cwd());"

# Run: production dependencies and the compiled code only.
FROM node:20-slim
# iptables for the init container's capture rules; openssl for the webhook's self-signed certificate.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables openssl \
 && rm -rf /var/lib/apt/lists/*
# Istio's sidecar uid: the capture rules let this uid's own traffic out uncaptured.
RUN groupadd --gid 1337 tsmesh && useradd --uid 1337 --gid 1337 --no-create-home --shell /usr/sbin/nologin tsmesh
WORKDIR /opt/tsmesh
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/proxy-bundle ./dist/proxy-bundle
RUN ln -s /opt/tsmesh/bin/tsmesh.js /usr/local/bin/tsmesh
USER 1337:1337
EXPOSE 15010 15012 15014 15017
ENTRYPOINT ["tsmesh"]
CMD ["help"]
