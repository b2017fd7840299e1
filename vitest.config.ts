import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";
import { motoInstalled } from "./local/moto-server.ts";

/**
 * Two tiers, one suite. The embedded tier runs every test on dynalite and fauxqs (what `npm start` uses). The
 * strict tier runs the tests that talk to the engines (adapters, integration, CLI) again on moto, which refuses
 * what AWS refuses where the embedded engines do not. Without moto (a user's machine) the strict tier is left out
 * with one line; CI sets DASHLIGHT_REQUIRE_STRICT=1, so there a missing moto fails the run.
 */
const STRICT_TESTS = ["test/adapters/**/*.test.ts", "test/integration/**/*.test.ts", "test/cli/**/*.test.ts"];

const strictTierAvailable = motoInstalled();
if (!strictTierAvailable) {
  if (process.env.DASHLIGHT_REQUIRE_STRICT === "1") {
    throw new Error("the strict test tier needs moto (python3 -m moto.server), and DASHLIGHT_REQUIRE_STRICT=1 is set");
  }
  process.stdout.write(
    "strict tier skipped: moto is not installed (pip install 'moto[server]'), embedded engines only\n",
  );
}

const embedded: TestProjectInlineConfiguration = {
  extends: true,
  test: { name: "embedded", include: ["test/**/*.test.ts"] },
};
const strict: TestProjectInlineConfiguration = {
  extends: true,
  test: { name: "strict", include: STRICT_TESTS, globalSetup: ["test/support/strict-engine-setup.ts"] },
};

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests each start their own engines on ephemeral ports; two workers fit 2 cores.
    maxWorkers: 2,
    env: { POWERTOOLS_LOG_LEVEL: "ERROR" },
    projects: strictTierAvailable ? [embedded, strict] : [embedded],
  },
});
