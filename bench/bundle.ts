/**
 * Bundle budget (issue 6): each function's minified bundle size and its module
 * init time, against targets of ≤ 150 KB and ≤ 50 ms more than an empty
 * handler. Bundles exactly as the CDK construct does (infra/bundling.ts), then
 * imports each bundle in a fresh Node process, several times, and reports the
 * median. Offline; needs no AWS account.
 *
 *   tsx bench/bundle.ts [--runs 9]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import {
  BUNDLE_BUDGET_BYTES,
  BUNDLE_SETTINGS,
  DEFAULT_RULES_DIR,
  ESM_REQUIRE_SHIM,
  HANDLERS_DIR,
  REPO_ROOT,
} from "../infra/bundling.ts";

const INIT_BUDGET_MS = 50;
const EMPTY = "(empty handler)";
/** A second floor: an empty handler that loads the SDK clients the handlers use (the runtime's copy in Lambda). */
const SDK_ONLY = "(SDK clients only)";

// Inside the repo's node_modules, so the external AWS SDK resolves as the Lambda runtime's copy would.
const OUT_DIR = join(REPO_ROOT, "node_modules", ".cache", "dashlight-bench");

/** What the handlers read at cold start; dummy values, since importing a bundle calls no AWS API. */
const HANDLER_ENV = {
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  NODE_OPTIONS: "--enable-source-maps",
  POWERTOOLS_LOG_LEVEL: "ERROR",
  DASHLIGHT_TABLE_NAME: "dashlight-bench",
  DASHLIGHT_EVENTS_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/dashlight-bench.fifo",
  DASHLIGHT_AUTOMATIC_WEBHOOK_SECRET: "bench",
  SMARTCAR_MANAGEMENT_TOKEN: "bench",
  DASHLIGHT_RAW_RETENTION_DAYS: "30",
  DASHLIGHT_ACTIONS_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/dashlight-bench-actions",
  DASHLIGHT_RULES_DIR: join(REPO_ROOT, DEFAULT_RULES_DIR),
  DASHLIGHT_POLL_JOBS_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/dashlight-bench-poll-jobs",
  DASHLIGHT_MODE: "aws",
  DASHLIGHT_SMS_TRANSPORT: "sns",
  DASHLIGHT_EMAIL_TRANSPORT: "outbox",
  DASHLIGHT_WEBHOOK_TRANSPORT: "http",
  DASHLIGHT_WEBHOOK_SIGNING_SECRET: "bench",
};

/** The Lambda entries: every functions/handlers/*.ts that exports a handler. */
const handlerEntries = (): { name: string; entry: string }[] =>
  readdirSync(join(REPO_ROOT, HANDLERS_DIR))
    .filter((file) => file.endsWith(".ts"))
    .map((file) => ({ name: file.replace(/\.ts$/, ""), entry: join(REPO_ROOT, HANDLERS_DIR, file) }))
    .filter(({ entry }) => /export const handler\b/.test(readFileSync(entry, "utf8")));

const bundle = async (name: string, entry: string): Promise<{ file: string; bytes: number }> => {
  const outfile = join(OUT_DIR, name, "index.mjs");
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: BUNDLE_SETTINGS.target,
    external: [...BUNDLE_SETTINGS.external],
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    minify: BUNDLE_SETTINGS.minify,
    sourcemap: "linked",
    sourcesContent: false,
    banner: { js: ESM_REQUIRE_SHIM },
    logLevel: "error",
  });
  return { file: outfile, bytes: statSync(outfile).size };
};

/** Milliseconds to import the bundle (module init, cold) in a fresh Node process. */
const initTimeMs = (file: string): number => {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { PATH: process.env.PATH, ...HANDLER_ENV },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`importing ${file} failed:\n${result.stderr}`);
  return Number(result.stdout);
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

const main = async () => {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "9" } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be a positive whole number, got ${values.runs}`);

  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(join(OUT_DIR, "empty"), { recursive: true });
  const emptyEntry = join(OUT_DIR, "empty", "handler.ts");
  writeFileSync(emptyEntry, "export const handler = async () => ({ statusCode: 200 });\n");
  const sdkEntry = join(OUT_DIR, "empty", "sdk-only.ts");
  writeFileSync(
    sdkEntry,
    'import "@aws-sdk/client-dynamodb";\nimport "@aws-sdk/lib-dynamodb";\nimport "@aws-sdk/client-sqs";\nexport const handler = async () => ({ statusCode: 200 });\n',
  );

  const targets = [{ name: EMPTY, entry: emptyEntry }, { name: SDK_ONLY, entry: sdkEntry }, ...handlerEntries()];
  const floors = new Set([EMPTY, SDK_ONLY]);
  const measured = [];
  for (const { name, entry } of targets) {
    const { file, bytes } = await bundle(floors.has(name) ? `floor-${measured.length}` : name, entry);
    initTimeMs(file); // warm the file system cache, as a provisioned Lambda image would be
    const times = Array.from({ length: runs }, () => initTimeMs(file));
    measured.push({ name, bytes, initMs: median(times) });
  }

  const [empty, sdkOnly] = measured;
  if (empty === undefined || sdkOnly === undefined) throw new Error("the floors were not measured");
  const rows = measured.map(({ name, bytes, initMs }) => {
    const floor = floors.has(name);
    const extraMs = initMs - empty.initMs;
    const within = bytes <= BUNDLE_BUDGET_BYTES && extraMs <= INIT_BUDGET_MS;
    return {
      function: name,
      "bundle KB": (bytes / 1024).toFixed(1),
      "init ms (median)": initMs.toFixed(1),
      "× empty": (initMs / empty.initMs).toFixed(2),
      "+ms vs empty": name === EMPTY ? "" : extraMs.toFixed(1),
      "+ms vs SDK only": floor ? "" : (initMs - sdkOnly.initMs).toFixed(1),
      budget: floor ? "" : within ? "ok" : "over",
    };
  });
  console.log(
    `Bundle budget: ≤ ${BUNDLE_BUDGET_BYTES / 1024} KB minified and ≤ ${INIT_BUDGET_MS} ms init over the empty handler (median of ${runs} fresh Node ${process.version} processes)`,
  );
  console.table(rows);
};

await main();
