# One image for the API, the workers and the CLI. Node 20 on Debian bookworm.
# With internet, `npm ci` also installs the optional @tensorflow/tfjs-node(-gpu) backends when their
# install scripts are allowed (FLEET_TFJS_NODE=1 below); otherwise workers fall back to wasm.
FROM node:20-bookworm-slim AS build
# The CPU path's native kernels (libs/training/src/backend/native) build at `npm ci` against the
# system oneDNN: the compiler only in this stage, the library in both.
RUN apt-get update && apt-get install -y --no-install-recommends g++ libdnnl-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY libs/training/src/backend/native ./libs/training/src/backend/native
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# Vulkan loader for the webgpu backend on NVIDIA GPUs (driver libraries come from the NVIDIA runtime).
# libglvnd0: NVIDIA's Vulkan ICD (libGLX_nvidia.so.0) needs libGLdispatch, which the runtime does
# not mount; without it Dawn finds no adapter (docs/gpu.md, measured on an H200).
# oneDNN (libdnnl2) for the native CPU kernels built in the first stage.
RUN apt-get update && apt-get install -y --no-install-recommends libvulkan1 libglvnd0 libdnnl2 ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
EXPOSE 3000
CMD ["node", "dist/apps/api/src/main.js"]
