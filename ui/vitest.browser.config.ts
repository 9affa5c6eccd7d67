import { defineConfig } from "vitest/config";

// The browser test: a real flowdesk server on a temporary SQLite database (browser/server.ts),
// driven through headless Chromium. `nox -s ui` runs it after building the UI into the server.
export default defineConfig({
  test: {
    include: ["browser/**/*.test.ts"],
    globalSetup: ["browser/server.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
