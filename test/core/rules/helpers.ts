import { readFileSync } from "node:fs";
import type { VehicleEvent } from "#core/model/event.ts";
import type { SignalSet } from "#core/model/signals.ts";
import { emptySnapshot, type VehicleSnapshot } from "#core/model/snapshot.ts";
import type { Vehicle } from "#core/model/vehicle.ts";
import { compileRuleSourcesOrThrow, type RuleSet } from "#core/rules/index.ts";
import { applyEventToSnapshot } from "#core/snapshot/apply-event.ts";

export const T0 = Date.parse("2026-05-01T08:00:00Z");
export const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

export const vehicle: Vehicle = {
  id: "automatic:C_test",
  provider: "automatic",
  providerVehicleId: "C_test",
  displayName: "Blue Leaf",
  tags: [],
  timeZone: "UTC",
  contacts: [],
  createdAt: at(0),
};

export const exampleRules = (): RuleSet =>
  compileRuleSourcesOrThrow(
    ["zones", "contacts", "speeding", "low-charge", "check-engine", "geofence-exit"].map((n) => ({
      file: `rules/${n}.yaml`,
      text: readFileSync(`rules/${n}.yaml`, "utf8"),
    })),
  );

export const rulesFrom = (text: string): RuleSet =>
  compileRuleSourcesOrThrow([
    { file: "rules/contacts.yaml", text: readFileSync("rules/contacts.yaml", "utf8") },
    { file: "rules/zones.yaml", text: readFileSync("rules/zones.yaml", "utf8") },
    { file: "rules/test.yaml", text },
  ]);

let counter = 0;
/** A canonical `signals` event whose samples were observed at its event time. */
export const signalsEvent = (seconds: number, values: SignalSet, id = `e${++counter}`): VehicleEvent => ({
  id,
  vehicleId: vehicle.id,
  type: "signals",
  occurredAt: at(seconds),
  receivedAt: at(seconds),
  source: { provider: "automatic" },
  data: {},
  signals: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v, observedAt: at(seconds) }])),
});

/** Applies an event and returns the evaluator input. */
export const step = (snapshot: VehicleSnapshot, event: VehicleEvent) => {
  const change = applyEventToSnapshot(snapshot, event);
  return {
    input: { event, snapshotBefore: snapshot, snapshotAfter: change.snapshot, vehicle, changed: change.changed },
    snapshot: change.snapshot,
  };
};

export const empty = () => emptySnapshot(vehicle.id);

export const deepFreeze = <T>(value: T): T => {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
};
