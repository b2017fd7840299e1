import { describe, expect, it } from "vitest";
import type { VehicleEvent } from "#core/model/event.ts";
import { emptySnapshot } from "#core/model/snapshot.ts";
import { applyEventToSnapshot } from "#core/snapshot/apply-event.ts";

const VEHICLE = "smartcar:v1";

const signalsEvent = (id: string, signals: VehicleEvent["signals"], occurredAt: string): VehicleEvent => ({
  id,
  vehicleId: VEHICLE,
  type: "signals",
  occurredAt,
  receivedAt: occurredAt,
  source: { provider: "smartcar" },
  data: {},
  signals,
});

describe("applyEventToSnapshot", () => {
  it("takes every signal of the first event and records where each came from", () => {
    const event = signalsEvent(
      "evt_1",
      { soc_pct: { value: 80, observedAt: "2026-11-22T10:00:00.000Z" } },
      "2026-11-22T10:00:00.000Z",
    );
    expect(applyEventToSnapshot(emptySnapshot(VEHICLE), event)).toStrictEqual({
      snapshot: {
        vehicleId: VEHICLE,
        signals: { soc_pct: { value: 80, observedAt: "2026-11-22T10:00:00.000Z" } },
        sourceEventIds: { soc_pct: "evt_1" },
        lastEventAt: "2026-11-22T10:00:00.000Z",
        version: 0,
      },
      changed: ["soc_pct"],
      stale: [],
    });
  });

  it("keeps each signal's newest sample when an event mixes older and newer ones", () => {
    const first = applyEventToSnapshot(
      emptySnapshot(VEHICLE),
      signalsEvent(
        "evt_1",
        {
          soc_pct: { value: 80, observedAt: "2026-11-22T10:00:00.000Z" },
          odometer_km: { value: 1000, observedAt: "2026-11-22T09:00:00.000Z" },
        },
        "2026-11-22T10:00:00.000Z",
      ),
    ).snapshot;
    const mixed = signalsEvent(
      "evt_2",
      {
        soc_pct: { value: 75, observedAt: "2026-11-22T09:30:00.000Z" },
        odometer_km: { value: 1010, observedAt: "2026-11-22T09:45:00.000Z" },
      },
      "2026-11-22T09:45:00.000Z",
    );
    const result = applyEventToSnapshot(first, mixed);
    expect(result.changed).toStrictEqual(["odometer_km"]);
    expect(result.stale).toStrictEqual(["soc_pct"]);
    expect(result.snapshot.signals).toStrictEqual({
      soc_pct: { value: 80, observedAt: "2026-11-22T10:00:00.000Z" },
      odometer_km: { value: 1010, observedAt: "2026-11-22T09:45:00.000Z" },
    });
    expect(result.snapshot.lastEventAt).toBe("2026-11-22T10:00:00.000Z");
  });

  it("changes nothing when the same event is applied twice", () => {
    const event = signalsEvent(
      "evt_1",
      { is_locked: { value: true, observedAt: "2026-11-22T10:00:00.000Z" } },
      "2026-11-22T10:00:00.000Z",
    );
    const once = applyEventToSnapshot(emptySnapshot(VEHICLE), event).snapshot;
    const twice = applyEventToSnapshot(once, event);
    expect(twice.changed).toStrictEqual([]);
    expect(twice.stale).toStrictEqual(["is_locked"]);
    expect(twice.snapshot).toStrictEqual(once);
  });

  it("does not mutate the snapshot or the event it is given", () => {
    const snapshot = emptySnapshot(VEHICLE);
    const event = signalsEvent(
      "evt_1",
      { soc_pct: { value: 50, observedAt: "2026-11-22T10:00:00.000Z" } },
      "2026-11-22T10:00:00.000Z",
    );
    const frozenSnapshot = structuredClone(snapshot);
    const frozenEvent = structuredClone(event);
    applyEventToSnapshot(snapshot, event);
    expect(snapshot).toStrictEqual(frozenSnapshot);
    expect(event).toStrictEqual(frozenEvent);
  });
});
