import { describe, expect, it } from "vitest";
import { tickDueVehicles } from "#core/events/tick-vehicles.ts";
import { emptySnapshot } from "#core/model/snapshot.ts";
import type { Vehicle } from "#core/model/vehicle.ts";
import type { RuleState } from "#core/rules/state.ts";
import { rulesFrom } from "../rules/helpers.ts";

const NOW = new Date("2026-11-22T12:00:00.000Z");
const vehicle: Vehicle = {
  id: "dimo:1",
  provider: "dimo",
  providerVehicleId: "1",
  displayName: "Van",
  tags: [],
  timeZone: "UTC",
  contacts: [],
  createdAt: "2026-11-01T00:00:00.000Z",
};
const orphan: RuleState = {
  ruleId: "deleted-rule",
  vehicleId: "dimo:1",
  fingerprint: "f",
  version: 4,
  triggers: [],
  episode: 0,
  open: null,
  cooldownUntil: null,
  recentEventIds: [],
  recentFirings: [],
  dueAt: "2026-11-22T11:00:00.000Z",
};
const ruleSet = rulesFrom(`rules:
  - id: speeding
    triggers:
      - signal: speed_kph
        above: 120
    actions:
      - sms: owner
        message: "fast"
`);

/** In-memory test doubles of the ports (the DynamoDB adapters run in test/integration). */
const run = async (registered: Vehicle | undefined) => {
  const saved: RuleState[] = [];
  const report = await tickDueVehicles(
    ruleSet,
    {
      timers: { dueVehicles: async () => ["dimo:1"] },
      vehicles: {
        loadVehicleState: async () => ({
          vehicle: registered,
          snapshot: emptySnapshot("dimo:1"),
          ruleStates: new Map([[orphan.ruleId, orphan]]),
        }),
        registerVehicle: async (v) => v,
        saveSnapshot: async (s) => s,
        saveRuleStates: async (states) => void saved.push(...states),
      },
      firings: { putFirings: async () => undefined },
      actions: { enqueue: async () => undefined },
    },
    NOW,
  );
  return { report, saved };
};

describe("tickDueVehicles", () => {
  it("stops a due timer whose rule no longer exists, so the vehicle is not due every minute forever", async () => {
    const { report, saved } = await run(vehicle);
    expect(report).toStrictEqual({ vehicles: 1, firings: [], failures: [] });
    expect(saved).toStrictEqual([{ ...orphan, dueAt: null, version: 5 }]);
  });

  it("stops the due timers of a vehicle that was removed", async () => {
    const { saved } = await run(undefined);
    expect(saved).toStrictEqual([{ ...orphan, dueAt: null, version: 5 }]);
  });
});
