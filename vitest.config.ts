import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests each start their own engines on ephemeral ports; two workers fit 2 cores.
    maxWorkers: 2,
    env: { POWERTOOLS_LOG_LEVEL: "ERROR" },
  },
});
