/**
 * `tsx bench/poll.ts` (BENCH_VEHICLES=1000 by default): poll throughput of the local runtime against the provider
 * simulators, and the provider calls per vehicle per hour the default poll settings allow.
 *
 * The fleet is split evenly over Smartcar (connected through the runtime's Connect flow), DIMO, OVMS and Automatic
 * REST (registered as `dashlight vehicles add` does). A round runs the poll scheduler once (it leases every due
 * vehicle and enqueues a job each) and ends when every vehicle has been polled (its registration saved with the
 * poll's requests counted), the poll jobs and events queues are empty (every poll's events turned into snapshot
 * updates and rule evaluations), and every vehicle has a stored snapshot. Round 1 is cold (DIMO privilege-token
 * exchanges, the OVMS login); round 2 makes every vehicle due again and repeats warm. The local runtime runs one
 * poll worker (batches of 10, concurrency 1), as `npm start` does.
 *
 * Calls per vehicle per hour come from DEFAULT_POLL_SETTINGS and the requests each client spent per poll in round 2
 * (the poll registry's count, i.e. what the budget is charged): polls per hour × requests per poll, and the daily
 * budget's share: budget / 24. Polling stops for the day when the budget is spent, so the sustained rate is the lower.
 */
import { createDocumentClient } from "#adapters/aws-clients.ts";
import { DynamoDbInviteStore } from "#adapters/dynamodb/invite-store.ts";
import { DynamoDbPollRegistry } from "#adapters/dynamodb/poll-registry.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import type { Provider, Vehicle } from "#core/model/vehicle.ts";
import { DEFAULT_POLL_SETTINGS } from "#core/polling/poll-policy.ts";
import type { PollRegistration } from "#core/polling/ports.ts";
import { registerVehicle } from "#core/vehicles/register-vehicle.ts";
import { connectSmartcar } from "#local/demo-fleet.ts";
import { type LocalRuntime, startLocalRuntime } from "#local/runtime.ts";
import { AUTOMATIC_SIM_TOKEN, startAutomaticSimulator } from "#providers/automatic/simulator.ts";
import { DIMO_SIM_ACCESS_TOKEN, startDimoSimulator } from "#providers/dimo/simulator.ts";
import { OVMS_SIM_USER, startOvmsSimulator } from "#providers/ovms/simulator.ts";
import { smartcarSimulatorEnv, startSmartcarSimulator } from "#providers/smartcar/simulator.ts";
import { logger } from "#shared/logger.ts";
import { queueDepth, scanTable } from "#test/support/local-runtime.ts";

const VEHICLES = Number(process.env.BENCH_VEHICLES ?? 1_000);
const PROVIDERS: Provider[] = ["smartcar", "dimo", "ovms", "automatic"];
const CLIENT = { id: "bench-client", secret: "bench-client-secret" };
const HOUR_MS = 3_600_000;

const main = async () => {
  logger.setLogLevel("ERROR");
  const per = Object.fromEntries(
    PROVIDERS.map((provider, i) => [
      provider,
      Math.floor(VEHICLES / PROVIDERS.length) + (i < VEHICLES % PROVIDERS.length ? 1 : 0),
    ]),
  ) as Record<Provider, number>;
  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  const at = { lat: 37.7793, lon: -122.4193 };
  const smartcar = await startSmartcarSimulator({
    clientId: CLIENT.id,
    clientSecret: CLIENT.secret,
    vehicles: ids("sc-", per.smartcar).map((id) => ({ id, location: at, soc: 0.6 })),
  });
  const dimo = await startDimoSimulator({
    vehicles: ids("", per.dimo).map((tokenId) => ({
      tokenId: String(10_000 + Number(tokenId)),
      status: { latitude: at.lat, longitude: at.lon, speed: 0, soc: 0.6, odometer: 1_000 },
    })),
  });
  const ovmsIds = ids("OV", per.ovms);
  const ovms = await startOvmsSimulator({ vehicles: ovmsIds.map((id) => ({ id })) });
  for (const vehicleId of ovmsIds) {
    ovms.script(
      { kind: "report", vehicleId, record: "S", fields: { soc: "60", units: "K" } },
      { kind: "report", vehicleId, record: "D", fields: { speed: "0", odometer: "10000" } },
      { kind: "report", vehicleId, record: "L", fields: { latitude: at.lat, longitude: at.lon } },
    );
  }
  const automaticIds = ids("C_bench", per.automatic);
  const automatic = await startAutomaticSimulator({ vehicles: automaticIds.map((id) => ({ id })) });

  Object.assign(process.env, {
    ...smartcarSimulatorEnv(smartcar.url, CLIENT, "http://127.0.0.1:1/connect/smartcar/callback"),
    DASHLIGHT_TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
    DASHLIGHT_CONNECT_COOKIE_SECRET: "bench-connect-cookie-secret",
    DIMO_DEVICE_DATA_API_URL: dimo.url,
    DIMO_DEVICES_API_URL: dimo.url,
    DIMO_TOKEN_EXCHANGE_URL: dimo.url,
    DIMO_VEHICLE_NFT_CONTRACT: "0xbA5738a18d83D41847dfFbDC6101d37C69c9B0cF",
    DIMO_ACCESS_TOKEN_BENCH: DIMO_SIM_ACCESS_TOKEN,
    OVMS_API_URL: ovms.url,
    OVMS_USERNAME_BENCH: OVMS_SIM_USER.username,
    OVMS_PASSWORD_BENCH: OVMS_SIM_USER.password,
    AUTOMATIC_API_URL: automatic.url,
    AUTOMATIC_ACCESS_TOKEN_BENCH: AUTOMATIC_SIM_TOKEN,
  });
  const runtime = await startLocalRuntime({
    port: 0,
    engines: { kind: "embedded", dataDir: undefined },
    automaticWebhookSecret: "bench-automatic-secret",
    smartcarManagementToken: "bench-smartcar-token",
    rawRetentionDays: 30,
    rulesDir: "rules",
    eventsQueue: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5, batchSize: 10, concurrency: 4 },
    standardQueues: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 },
    runDispatcher: true,
    webhookSigningSecret: "bench-webhook-signing-secret",
    tickIntervalMs: undefined,
  });
  const documentClient = createDocumentClient(runtime.endpoints);
  const registry = new DynamoDbPollRegistry(documentClient, runtime.provisioned.tableName);
  const ports = { vehicles: new DynamoDbVehicleStore(documentClient, runtime.provisioned.tableName), polls: registry };

  // Registration (not timed): Smartcar through Connect, the others with a credentials reference.
  const registering = Date.now();
  const invites = new DynamoDbInviteStore(documentClient, runtime.provisioned.tableName);
  const connected = await connectSmartcar(runtime.url, "UTC", invites, per.smartcar);
  const others: [Provider, string[]][] = [
    ["dimo", ids("", per.dimo).map((i) => String(10_000 + Number(i)))],
    ["ovms", ovmsIds],
    ["automatic", automaticIds],
  ];
  for (const [provider, providerIds] of others) {
    for (const providerVehicleId of providerIds) {
      const vehicle = {
        id: `${provider}:${providerVehicleId}`,
        provider,
        providerVehicleId,
        displayName: `Bench ${providerVehicleId}`,
        tags: [],
        timeZone: "UTC",
        contacts: [],
        credentialsRef: "bench",
        createdAt: new Date().toISOString(),
      } satisfies Vehicle;
      await registerVehicle(vehicle, ports, { poll: true, now: new Date() });
    }
  }
  const total = connected.length + others.reduce((n, [, list]) => n + list.length, 0);
  process.stdout.write(
    `registered ${total} vehicles (${PROVIDERS.map((p) => `${p} ${per[p]}`).join(", ")}) in ${((Date.now() - registering) / 1000).toFixed(1)} s\n`,
  );

  const round = async (label: string) => {
    const before = new Map((await registry.list()).map((r) => [r.vehicleId, r.version]));
    const started = performance.now();
    // The scheduler hands out at most 1,000 vehicles a run.
    let jobs = 0;
    for (let batch = await runtime.schedulePolls(); batch.jobs > 0; batch = await runtime.schedulePolls()) {
      jobs += batch.jobs;
    }
    const scheduledMs = performance.now() - started;
    let polledMs = 0;
    for (;;) {
      const registrations = await registry.list();
      // Polled: saved by a worker after the scheduler's lease (lease = version + 1, poll = version + 2).
      const polled = registrations.filter((r) => r.version >= (before.get(r.vehicleId) ?? 0) + 2).length;
      if (polled === total && polledMs === 0) polledMs = performance.now() - started;
      if (
        polled === total &&
        (await queueDepth(runtime, runtime.provisioned.pollJobsQueue.url)) === 0 &&
        (await queueDepth(runtime, runtime.provisioned.eventsQueue.url)) === 0 &&
        (await snapshotCount(runtime)) === total
      ) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const endToEndMs = performance.now() - started;
    return { label, jobs, scheduledMs, polledMs, endToEndMs, registrations: await registry.list() };
  };

  const cold = await round("cold (first poll)");
  // Every vehicle due again, as its next poll time would make it.
  for (const registration of cold.registrations) {
    await registry.save({
      ...registration,
      state: { ...registration.state, nextPollAt: new Date().toISOString() },
      version: registration.version + 1,
    });
  }
  const warm = await round("warm (second poll)");

  const failures = warm.registrations.filter((r) => r.lastError !== null);
  process.stdout.write(
    `\npoll throughput, local runtime (one poll worker, batches of 10) against the simulators, ${total} vehicles\n`,
  );
  process.stdout.write(
    table(
      ["round", "jobs", "schedule s", "all polled s", "polled/s", "end to end s", "vehicles/s e2e"],
      [cold, warm].map((r) => [
        r.label,
        String(r.jobs),
        (r.scheduledMs / 1000).toFixed(2),
        (r.polledMs / 1000).toFixed(2),
        (total / (r.polledMs / 1000)).toFixed(1),
        (r.endToEndMs / 1000).toFixed(2),
        (total / (r.endToEndMs / 1000)).toFixed(1),
      ]),
    ),
  );
  if (failures.length > 0) process.stdout.write(`failed polls: ${failures.length}, e.g. ${failures[0]?.lastError}\n`);

  const perPoll = (registrations: PollRegistration[], provider: Provider, minus?: PollRegistration[]) => {
    const earlier = new Map((minus ?? []).map((r) => [r.vehicleId, r.state.requestsToday]));
    const mine = registrations.filter((r) => r.provider === provider);
    const sum = mine.reduce((n, r) => n + r.state.requestsToday - (earlier.get(r.vehicleId) ?? 0), 0);
    return mine.length === 0 ? 0 : sum / mine.length;
  };
  process.stdout.write("\nprovider calls per vehicle per hour under DEFAULT_POLL_SETTINGS\n");
  process.stdout.write(
    table(
      [
        "provider",
        "req/poll cold",
        "req/poll warm",
        "active every",
        "parked every",
        "active calls/h",
        "parked calls/h",
        "budget/day",
        "budget/24h",
        "budget spent after (active)",
        "(parked)",
      ],
      PROVIDERS.map((provider) => {
        const settings = DEFAULT_POLL_SETTINGS[provider];
        const warmPerPoll = perPoll(warm.registrations, provider, cold.registrations);
        const active = (HOUR_MS / settings.activeIntervalMs) * warmPerPoll;
        const parked = (HOUR_MS / settings.parkedIntervalMs) * warmPerPoll;
        return [
          provider,
          perPoll(cold.registrations, provider).toFixed(2),
          warmPerPoll.toFixed(2),
          `${settings.activeIntervalMs / 60_000} min`,
          `${settings.parkedIntervalMs / 60_000} min`,
          active.toFixed(1),
          parked.toFixed(1),
          String(settings.dailyRequestBudget),
          (settings.dailyRequestBudget / 24).toFixed(1),
          spentAfter(settings.dailyRequestBudget, active),
          spentAfter(settings.dailyRequestBudget, parked),
        ];
      }),
    ),
  );

  await runtime.stop();
  await Promise.all([smartcar.stop(), dimo.stop(), ovms.stop(), automatic.stop()]);
};

/** Hours of polling at `perHour` calls until the day's budget is spent; "never" when a whole day fits. */
const spentAfter = (budget: number, perHour: number): string =>
  perHour * 24 <= budget ? "never" : `${(budget / perHour).toFixed(1)} h`;

const snapshotCount = async (runtime: LocalRuntime): Promise<number> =>
  (await scanTable(runtime)).filter((item) => (item.sk as { S: string }).S === "SNAPSHOT").length;

const table = (head: string[], rows: string[][]): string => {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line), ""].join("\n");
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench/poll: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
