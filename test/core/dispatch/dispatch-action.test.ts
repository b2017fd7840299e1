import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dispatchAction } from "#core/dispatch/dispatch-action.ts";
import { DeliveryRetriesExhaustedError, TransientDeliveryError } from "#core/dispatch/errors.ts";
import { ProviderUnavailableError, UnsupportedCommandError } from "#core/providers/errors.ts";
import { memoryDeps, sampleActions, snapshotOf } from "#test/support/dispatch-doubles.ts";

const now = new Date("2026-05-01T08:10:00.000Z");

describe("dispatchAction", () => {
  it("texts each recipient once, and a redelivery sends nothing more", async () => {
    const deps = memoryDeps(now);
    const action = sampleActions.sms();
    const first = await dispatchAction(action, deps);
    const again = await dispatchAction(action, deps);
    expect(deps.channels.sms.map((sms) => [sms.envelope.deliveryId, sms.to, sms.text])).toStrictEqual([
      ["low-charge/smartcar:veh_1/3/fire/0/to/0", "+15555550100", "Blue Leaf is at 18% and not plugged in."],
      ["low-charge/smartcar:veh_1/3/fire/0/to/1", "+15555550101", "Blue Leaf is at 18% and not plugged in."],
    ]);
    expect(first).toStrictEqual({
      actionId: action.id,
      replayed: 0,
      outcomes: [0, 1].map((index) => ({
        deliveryId: `${action.id}/to/${index}`,
        actionId: action.id,
        channel: "sms",
        transport: "sns",
        status: "sent",
        messageId: `sms-${index + 1}`,
        decidedAt: now.toISOString(),
      })),
    });
    expect(again).toStrictEqual({ ...first, replayed: 2 });
  });

  it("records a recipient without an E.164 number as failed and still texts the others", async () => {
    const deps = memoryDeps(now);
    const action = sampleActions.sms({
      to: [
        { name: "mechanic", address: "" },
        { name: "Alex", address: "+15555550100" },
      ],
    } as never);
    const result = await dispatchAction(action, deps);
    expect(result.outcomes.map((outcome) => [outcome.status, outcome.reason])).toStrictEqual([
      ["failed", "SMS recipient mechanic has no E.164 number (none)"],
      ["sent", undefined],
    ]);
    expect(deps.channels.sms).toHaveLength(1);
  });

  it("retries a transient failure with backoff within the attempt", async () => {
    const deps = memoryDeps(now);
    deps.channels.failures = [new TransientDeliveryError("throttled"), new TransientDeliveryError("throttled", 700)];
    const result = await dispatchAction(sampleActions.email(), deps);
    expect(result.outcomes.map((outcome) => outcome.status)).toStrictEqual(["sent"]);
    expect(deps.slept).toStrictEqual([50, 700]);
    expect(deps.channels.emails[0]?.email.subject).toBe("Check engine light on Blue Leaf");
    expect(deps.channels.emails[0]?.email.html).toContain("<li>P0301: Cylinder 1 misfire detected</li>");
  });

  it("throws when the retries are exhausted, so the queue redelivers; the claim is free again", async () => {
    const deps = memoryDeps(now);
    deps.channels.failures = [1, 2, 3].map(() => new TransientDeliveryError("503"));
    const action = sampleActions.webhook();
    await expect(dispatchAction(action, deps)).rejects.toStrictEqual(
      new DeliveryRetriesExhaustedError(`delivery ${action.id} failed 3 times: 503`),
    );
    const retried = await dispatchAction(action, deps);
    expect(retried.outcomes.map((outcome) => outcome.status)).toStrictEqual(["sent"]);
    expect(deps.channels.webhooks).toHaveLength(1);
  });

  it("signs webhooks over the timestamp and the exact body", async () => {
    const deps = memoryDeps(now);
    await dispatchAction(sampleActions.webhook(), deps);
    const request = deps.channels.webhooks[0]?.request;
    const timestamp = String(now.getTime() / 1000);
    expect(request?.headers).toStrictEqual({
      "content-type": "application/json",
      "x-dashlight-delivery": "low-charge/smartcar:veh_1/3/fire/1",
      "x-dashlight-timestamp": timestamp,
      "x-dashlight-signature": `v1=${createHmac("sha256", "whsec_test").update(`${timestamp}.${request?.body}`).digest("hex")}`,
    });
  });

  it("sends a command when the car stands still, records read-back and audits it", async () => {
    const deps = memoryDeps(now, {
      snapshot: snapshotOf("smartcar:veh_1", { speed_kph: { value: 0, observedAt: "2026-05-01T08:09:50.000Z" } }),
    });
    const action = sampleActions.command();
    const result = await dispatchAction(action, deps);
    expect(deps.client.sent).toStrictEqual([
      {
        vehicle: {
          vehicleId: "smartcar:veh_1",
          provider: "smartcar",
          providerVehicleId: "veh_1",
          credentialsRef: "smartcar:veh_1",
        },
        command: "unlock",
        params: {},
      },
    ]);
    expect(deps.audit.entries).toStrictEqual([
      {
        actionId: action.id,
        vehicleId: "smartcar:veh_1",
        ruleId: "left-unlocked",
        firingId: "left-unlocked/smartcar:veh_1/2/fire",
        episode: 2,
        phase: "fire",
        command: "unlock",
        params: {},
        at: "2026-05-01T08:00:00.000Z",
        decidedAt: now.toISOString(),
        outcome: "sent",
        providerRequestId: "req-1",
        confirmed: true,
      },
    ]);
    expect(result.outcomes[0]?.transport).toBe("provider");
  });

  it("refuses an unlock while moving, sends nothing and audits the refusal", async () => {
    const deps = memoryDeps(now, {
      snapshot: snapshotOf("smartcar:veh_1", { speed_kph: { value: 50, observedAt: "2026-05-01T08:09:50.000Z" } }),
    });
    const result = await dispatchAction(sampleActions.command(), deps);
    expect(deps.client.sent).toStrictEqual([]);
    expect(result.outcomes.map((outcome) => [outcome.status, outcome.reason])).toStrictEqual([
      ["refused", "vehicle is moving: 50 km/h at 2026-05-01T08:09:50.000Z"],
    ]);
    expect(deps.audit.entries.map((entry) => [entry.outcome, entry.reason])).toStrictEqual([
      ["refused", "vehicle is moving: 50 km/h at 2026-05-01T08:09:50.000Z"],
    ]);
  });

  it("refuses the command past the per-vehicle limit", async () => {
    const deps = memoryDeps(now, { policy: { ...memoryDeps(now).policy, maxCommandsPerWindow: 2 } });
    const outcomes = [];
    for (const episode of [1, 2, 3])
      outcomes.push(
        ...(await dispatchAction(sampleActions.command({ id: `lock/${episode}/0`, command: "lock" } as never), deps))
          .outcomes,
      );
    expect(outcomes.map((outcome) => [outcome.status, outcome.reason])).toStrictEqual([
      ["sent", undefined],
      ["sent", undefined],
      ["refused", "rate limit: 2 commands per 60 minutes already sent to this vehicle"],
    ]);
    expect(deps.client.sent).toHaveLength(2);
  });

  it("records an unsupported command failed at once; a provider outage is retried and audited as retrying", async () => {
    const deps = memoryDeps(now);
    deps.client.failures = [new UnsupportedCommandError("smartcar", "open_frunk")];
    const unsupported = await dispatchAction(sampleActions.command({ command: "open_frunk" } as never), deps);
    expect(unsupported.outcomes.map((outcome) => [outcome.status, outcome.reason])).toStrictEqual([
      ["failed", "smartcar: command open_frunk is not supported by smartcar"],
    ]);
    deps.client.failures = [1, 2, 3].map(() => new ProviderUnavailableError("smartcar", "503"));
    const action = sampleActions.command({ id: "outage/0", command: "lock" } as never);
    await expect(dispatchAction(action, deps)).rejects.toBeInstanceOf(DeliveryRetriesExhaustedError);
    expect(deps.audit.entries.at(-1)?.outcome).toBe("retrying");
    expect(deps.slept).toStrictEqual([50, 100]);
  });

  it("fails a command for a provider without a command client", async () => {
    const deps = memoryDeps(now, { commands: new Map() });
    const result = await dispatchAction(sampleActions.command({ command: "lock" } as never), deps);
    expect(result.outcomes.map((outcome) => [outcome.status, outcome.reason])).toStrictEqual([
      ["failed", "no command client is configured for smartcar"],
    ]);
  });
});
