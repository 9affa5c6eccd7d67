import { defineConfig } from "vitest/config";

// `npm run dev` forwards /api to the dev API server (`invoke dev.api`), so the UI talks to it
// as it will in production: same origin, no CORS. `invoke ui.dev` sets API_PROXY_TARGET from
// [tool.contribkit] api_port.
const apiTarget = process.env.API_PROXY_TARGET ?? "http://127.0.0.1:4200";

export default defineConfig({
  server: {
    host: "127.0.0.1",
    proxy: { "/api": { target: apiTarget, changeOrigin: true } },
  },
  build: { outDir: "dist", emptyOutDir: true },
  test: { include: ["tests/**/*.test.ts"], environment: "node" },
});
