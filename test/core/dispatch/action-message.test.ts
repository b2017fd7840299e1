import { describe, expect, it } from "vitest";
import { parseActionMessage } from "#core/dispatch/action-message.ts";
import { planDeliveries } from "#core/dispatch/dispatch-action.ts";
import { InvalidActionMessageError } from "#core/dispatch/errors.ts";
import { isE164, maskAddress } from "#core/dispatch/recipients.ts";
import { sampleActions } from "#test/support/dispatch-doubles.ts";

describe("action messages", () => {
  it("parses every action type back to the action the rule engine enqueued", () => {
    for (const action of [sampleActions.sms(), sampleActions.email(), sampleActions.webhook(), sampleActions.command()])
      expect(parseActionMessage(JSON.stringify(action))).toStrictEqual(action);
  });

  it("names the first bad field of a poison message", () => {
    expect(() => parseActionMessage("{nope")).toThrow(new InvalidActionMessageError("action message is not JSON"));
    const bad = { ...sampleActions.sms(), to: [{ name: "Alex" }] };
    expect(() => parseActionMessage(JSON.stringify(bad))).toThrow(
      new InvalidActionMessageError(
        "invalid action message: to.0.address: Invalid input: expected string, received undefined",
      ),
    );
  });
});

describe("delivery planning", () => {
  it("gives each SMS and email recipient a delivery of its own, and a webhook or command one", () => {
    expect(planDeliveries(sampleActions.sms()).map((delivery) => [delivery.id, delivery.recipient])).toStrictEqual([
      ["low-charge/smartcar:veh_1/3/fire/0/to/0", { name: "Alex", address: "+15555550100" }],
      ["low-charge/smartcar:veh_1/3/fire/0/to/1", { name: "Sam", address: "+15555550101" }],
    ]);
    expect(planDeliveries(sampleActions.command()).map((delivery) => delivery.id)).toStrictEqual([
      "left-unlocked/smartcar:veh_1/2/fire/0",
    ]);
  });
});

describe("recipients", () => {
  it("accepts only E.164 numbers", () => {
    expect(
      ["+14155550100", "+447911123456", "14155550100", "+0123", "+1 415 555 0100", "+1234567890123456"].map(isE164),
    ).toStrictEqual([true, true, false, false, false, false]);
  });

  it("masks phone numbers and emails for logs", () => {
    expect(["+14155550100", "alex@example.com", "123"].map(maskAddress)).toStrictEqual([
      "+14*******00",
      "a***@example.com",
      "***",
    ]);
  });
});
