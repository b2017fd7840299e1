import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PermanentDeliveryError, TransientDeliveryError, UnsafeWebhookTargetError } from "#core/dispatch/errors.ts";
import {
  checkWebhookTarget,
  classifyWebhookStatus,
  isPublicAddress,
  signWebhook,
  webhookBodyOf,
} from "#core/dispatch/webhook.ts";
import { sampleActions } from "#test/support/dispatch-doubles.ts";

describe("webhook signing", () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256 and sends the timestamp', () => {
    const body = '{"id":"a/0"}';
    const expected = createHmac("sha256", "whsec_test").update(`1777622400.${body}`).digest("hex");
    expect(signWebhook(body, "whsec_test", 1777622400)).toStrictEqual({
      "x-dashlight-timestamp": "1777622400",
      "x-dashlight-signature": `v1=${expected}`,
    });
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it("posts the rule engine's body with the action id first", () => {
    expect(JSON.parse(webhookBodyOf(sampleActions.webhook() as never))).toStrictEqual({
      id: "low-charge/smartcar:veh_1/3/fire/1",
      rule: "low-charge",
      vehicle: "smartcar:veh_1",
      episode: 3,
      phase: "fire",
      at: "2026-05-01T08:00:00.000Z",
      eventId: "evt_1",
      message: "low",
    });
  });
});

describe("the SSRF guard", () => {
  it.each([
    ["10.1.2.3"],
    ["127.0.0.1"],
    ["169.254.169.254"],
    ["172.31.255.255"],
    ["192.168.0.10"],
    ["100.64.0.1"],
    ["0.0.0.0"],
    ["224.0.0.1"],
    ["::1"],
    ["::"],
    ["fe80::1"],
    ["fd12:3456::1"],
    ["::ffff:127.0.0.1"],
    ["::ffff:a9fe:a9fe"],
    ["64:ff9b::10.0.0.1"],
    ["::7f00:1"],
    ["::ffff:0:7f00:1"],
    ["[::1]"],
    ["not-an-ip"],
  ])("refuses %s", (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([["93.184.215.14"], ["8.8.8.8"], ["172.32.0.1"], ["2606:4700::1111"], ["::ffff:8.8.8.8"]])(
    "allows %s",
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  const resolver = (answers: Record<string, string[]>) => async (host: string) => {
    const found = answers[host];
    if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return found;
  };

  it("refuses http and credentials in aws mode", async () => {
    const resolve = resolver({ "hooks.example.com": ["93.184.215.14"] });
    await expect(checkWebhookTarget("http://hooks.example.com/x", "aws", resolve)).rejects.toStrictEqual(
      new UnsafeWebhookTargetError("webhook URL must use https:: http:"),
    );
    await expect(checkWebhookTarget("https://u:p@hooks.example.com/x", "aws", resolve)).rejects.toStrictEqual(
      new UnsafeWebhookTargetError("webhook URL must not carry credentials"),
    );
  });

  it("refuses a name that resolves to any private address", async () => {
    const resolve = resolver({ "rebind.example.com": ["93.184.215.14", "10.0.0.7"] });
    await expect(checkWebhookTarget("https://rebind.example.com/x", "aws", resolve)).rejects.toStrictEqual(
      new UnsafeWebhookTargetError("webhook host rebind.example.com resolves to a non-public address (10.0.0.7)"),
    );
  });

  it("refuses literal private and IPv6 loopback targets, and localhost without asking DNS", async () => {
    const resolve = resolver({});
    await expect(checkWebhookTarget("https://169.254.169.254/latest", "aws", resolve)).rejects.toBeInstanceOf(
      UnsafeWebhookTargetError,
    );
    await expect(checkWebhookTarget("https://[::1]:8443/", "aws", resolve)).rejects.toBeInstanceOf(
      UnsafeWebhookTargetError,
    );
    await expect(checkWebhookTarget("https://localhost/", "aws", resolve)).rejects.toBeInstanceOf(
      UnsafeWebhookTargetError,
    );
  });

  it("accepts a public https name with every address it was checked at, to be pinned", async () => {
    const resolve = resolver({ "hooks.example.com": ["93.184.215.14", "2606:4700::1111"] });
    expect(await checkWebhookTarget("https://hooks.example.com/x", "aws", resolve)).toStrictEqual({
      url: new URL("https://hooks.example.com/x"),
      addresses: ["93.184.215.14", "2606:4700::1111"],
    });
  });

  it("pins nothing for a public IP literal (it is its own address) or in local mode", async () => {
    const resolve = resolver({});
    expect(await checkWebhookTarget("https://93.184.215.14/x", "aws", resolve)).toStrictEqual({
      url: new URL("https://93.184.215.14/x"),
      addresses: undefined,
    });
    expect(await checkWebhookTarget("https://[2606:4700::1111]:8443/x", "aws", resolve)).toStrictEqual({
      url: new URL("https://[2606:4700::1111]:8443/x"),
      addresses: undefined,
    });
    expect(await checkWebhookTarget("http://127.0.0.1:9000/hook", "local", resolve)).toStrictEqual({
      url: new URL("http://127.0.0.1:9000/hook"),
      addresses: undefined,
    });
  });

  it("treats an unknown name as permanent and a DNS timeout as transient", async () => {
    await expect(checkWebhookTarget("https://nope.example/", "aws", resolver({}))).rejects.toBeInstanceOf(
      PermanentDeliveryError,
    );
    const timeout = async () => {
      throw Object.assign(new Error("queryA ETIMEOUT"), { code: "ETIMEOUT" });
    };
    await expect(checkWebhookTarget("https://slow.example/", "aws", timeout)).rejects.toBeInstanceOf(
      TransientDeliveryError,
    );
  });

  it("classifies answers: 2xx sent, 408/429/5xx transient, other statuses permanent", () => {
    expect([200, 204, 301, 400, 404, 408, 429, 500, 503].map(classifyWebhookStatus)).toStrictEqual([
      "sent",
      "sent",
      "permanent",
      "permanent",
      "permanent",
      "transient",
      "transient",
      "transient",
      "transient",
    ]);
  });
});
