import { fileURLToPath } from "node:url";

/**
 * How every Dashlight function is bundled, shared by the CDK construct and the
 * bundle benchmark so the figures describe what is deployed.
 */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Handler entries live in functions/handlers/<name>.ts, one per Lambda. */
export const HANDLERS_DIR = "functions/handlers";

/** Rule files shipped with every function (DESIGN §3); overridable with the `dashlight:rulesDir` context. */
export const DEFAULT_RULES_DIR = "rules";

/**
 * ESM output lets a handler await at module scope (cold start), but some
 * CommonJS dependencies still call require(): give them one.
 */
export const ESM_REQUIRE_SHIM =
  "import { createRequire as __dashlightCreateRequire } from 'node:module'; const require = __dashlightCreateRequire(import.meta.url);";

export const BUNDLE_SETTINGS = {
  target: "node22",
  /** The Node 22 Lambda runtime ships AWS SDK v3: bundling it again would triple every bundle. */
  external: ["@aws-sdk/*"],
  /** Prefer packages' ESM builds, which tree-shake. */
  mainFields: ["module", "main"],
  minify: true,
} as const;

/** The budget from issue 6: minified bundle size per function. */
export const BUNDLE_BUDGET_BYTES = 150 * 1024;
