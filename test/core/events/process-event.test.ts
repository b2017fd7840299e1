import { describe, expect, it } from "vitest";
import type { EventProcessingPorts } from "#core/events/process-event.ts";
import { processEvent } from "#core/events/process-event.ts";
import type { VehicleEvent } from "#core/model/event.ts";
import { emptySnapshot, type VehicleSnapshot } from "#core/model/snapshot.ts";
import type { Vehicle } from "#core/model/vehicle.ts";
import type { Action, Firing, RuleState } from "#core/rules/state.ts";
import { rulesFrom } from "../rules/helpers.ts";

const VEHICLE_ID = "automatic:C_1";
const NOW = new Date("2026-11-22T12:00:00.000Z");

const milOn = (id: string): VehicleEvent => ({
  id,
  vehicleId: VEHICLE_ID,
  type: "mil.on",
  occurredAt: "2026-11-22T11:59:00.000Z",
  receivedAt: "2026-11-22T11:59:01.000Z",
  source: { provider: "automatic" },
  data: { dtcs: [{ code: "P0420" }] },
  signals: { mil_on: { value: true, observedAt: "2026-11-22T11:59:00.000Z" } },
});

/** In-memory test doubles of the ports; the DynamoDB and SQS adapters are exercised in test/integration. */
const memoryPorts = () => {
  const storedEvents = new Set<string>();
  let vehicle: Vehicle | undefined;
  let snapshot: VehicleSnapshot = emptySnapshot(VEHICLE_ID);
  const ruleStates = new Map<string, RuleState>();
  const firings: Firing[] = [];
  const actions: Action[] = [];
  const writes: string[] = [];
  const ports: EventProcessingPorts = {
    events: {
      putEvent: async (event) => {
        if (storedEvents.has(event.id)) return "duplicate";
        storedEvents.add(event.id);
        return "stored";
      },
    },
    vehicles: {
      loadVehicleState: async () => ({ vehicle, snapshot, ruleStates }),
      registerVehicle: async (registration) => (vehicle ??= registration),
      saveSnapshot: async (next) => {
        writes.push("snapshot");
        snapshot = { ...next, version: next.version + 1 };
        return snapshot;
      },
      saveRuleStates: async (states) => {
        for (const state of states) {
          writes.push(`rule:${state.ruleId}`);
          ruleStates.set(state.ruleId, state);
        }
      },
    },
    firings: { putFirings: async (batch) => void firings.push(...batch) },
    actions: { enqueue: async (batch) => void actions.push(...batch) },
  };
  return { ports, firings, actions, writes, snapshot: () => snapshot };
};

const checkEngine = rulesFrom(`rules:
  - id: check-engine
    triggers:
      - event: mil.on
    max_event_delay: 7d
    actions:
      - email: owner
        subject: "Check engine"
        message: "MIL on"
`);

describe("processEvent", () => {
  it("skips an event redelivered after it was fully applied: no evaluation, no writes", async () => {
    const memory = memoryPorts();
    const first = await processEvent(milOn("evt_1"), checkEngine, memory.ports, () => NOW);
    expect(first.firings.map((firing) => firing.id)).toStrictEqual([`check-engine/${VEHICLE_ID}/1/fire`]);
    expect(memory.writes).toStrictEqual(["rule:check-engine", "snapshot"]);
    expect(memory.snapshot().appliedEventIds).toStrictEqual(["evt_1"]);

    const again = await processEvent(milOn("evt_1"), checkEngine, memory.ports, () => NOW);
    expect([again.firstDelivery, again.firings, again.actions]).toStrictEqual([false, [], []]);
    expect(memory.writes).toStrictEqual(["rule:check-engine", "snapshot"]);
    expect(memory.firings).toHaveLength(1);
    expect(memory.actions).toHaveLength(1);
  });

  it("evaluates a stored event again when its snapshot write never happened (a crash), and fires nothing new", async () => {
    const memory = memoryPorts();
    await processEvent(milOn("evt_1"), checkEngine, memory.ports, () => NOW);
    // Forget the snapshot's record, as if the crash came between the rule state write and the snapshot write.
    const crashed = { ...memory.snapshot(), appliedEventIds: [] };
    const ports = {
      ...memory.ports,
      vehicles: {
        ...memory.ports.vehicles,
        loadVehicleState: async (id: string) => ({
          ...(await memory.ports.vehicles.loadVehicleState(id)),
          snapshot: crashed,
        }),
      },
    };
    const again = await processEvent(milOn("evt_1"), checkEngine, ports, () => NOW);
    // The rule state recognises the event: the same firing and action ids come back for put-if-absent and dispatch.
    expect(again.firings.map((firing) => firing.id)).toStrictEqual([`check-engine/${VEHICLE_ID}/1/fire`]);
    expect(again.actions.map((action) => action.id)).toStrictEqual([`check-engine/${VEHICLE_ID}/1/fire/0`]);
  });

  it("evaluates a vehicle registered with a zone the runtime does not know in the zone its event names, else UTC, instead of throwing", async () => {
    const lunchtime = rulesFrom(`rules:
  - id: lunchtime-mil
    triggers:
      - event: mil.on
    conditions:
      - time: { after: "12:30", before: "13:30" }
    max_event_delay: 7d
    actions:
      - email: owner
        subject: "Check engine"
        message: "MIL on at lunch"
`);
    const poisoned: Vehicle = {
      id: VEHICLE_ID,
      provider: "automatic",
      providerVehicleId: "C_1",
      displayName: "Registered before zones were checked",
      tags: [],
      timeZone: "Mars/Olympus_Mons",
      contacts: [],
      createdAt: "2026-11-01T00:00:00.000Z",
    };
    // 11:59 UTC is 12:59 in Berlin: inside the window there, outside it in UTC.
    const onUtc = memoryPorts();
    await onUtc.ports.vehicles.registerVehicle(poisoned);
    expect((await processEvent(milOn("evt_1"), lunchtime, onUtc.ports, () => NOW)).firings).toStrictEqual([]);

    const inBerlin = memoryPorts();
    await inBerlin.ports.vehicles.registerVehicle(poisoned);
    const hinted = { ...milOn("evt_2"), vehicleHints: { timeZone: "Europe/Berlin" } };
    const applied = await processEvent(hinted, lunchtime, inBerlin.ports, () => NOW);
    expect(applied.firings.map((firing) => firing.id)).toStrictEqual([`lunchtime-mil/${VEHICLE_ID}/1/fire`]);
    expect(applied.vehicle.timeZone).toBe("Europe/Berlin");
  });
});
