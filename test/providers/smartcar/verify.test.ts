import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  answerSmartcarChallenge,
  isSmartcarVerifyChallenge,
  verifySmartcarSignature,
} from "#providers/smartcar/normalize-webhook.ts";
import { sampleBody, samplePayload } from "#test/support/events.ts";

const TOKEN = "amt_0f6a1c9e2b7d4e3f8a5c";
const reference = (key: string, message: string) => createHmac("sha256", key).update(message, "utf8").digest("hex");

describe("VERIFY challenge", () => {
  it("recognises the documented VERIFY delivery", () => {
    expect(isSmartcarVerifyChallenge(samplePayload("smartcar", "verify"))).toBe(true);
  });

  it("does not take other deliveries or malformed VERIFYs for a challenge", () => {
    expect(isSmartcarVerifyChallenge(samplePayload("smartcar", "vehicle-state"))).toBe(false);
    expect(isSmartcarVerifyChallenge({ eventId: "1", eventType: "VERIFY", data: {} })).toBe(false);
    expect(isSmartcarVerifyChallenge({ eventId: "1", eventType: "VERIFY", data: { challenge: 42 } })).toBe(false);
    expect(isSmartcarVerifyChallenge(null)).toBe(false);
    expect(isSmartcarVerifyChallenge("VERIFY")).toBe(false);
  });

  it("answers with the hex HMAC-SHA256 of the challenge keyed by the management token", () => {
    const challenge = "3f4a9b1c2d7e4f60a1b2c3d4e5f60718";
    expect(answerSmartcarChallenge(challenge, TOKEN)).toStrictEqual({ challenge: reference(TOKEN, challenge) });
  });

  it("answers a known vector exactly", () => {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    expect(answerSmartcarChallenge("what do ya want for nothing?", "Jefe")).toStrictEqual({
      challenge: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    });
  });
});

describe("verifySmartcarSignature", () => {
  const body = sampleBody("smartcar", "vehicle-state");
  const signature = reference(TOKEN, body);

  it("accepts the hex HMAC-SHA256 of the raw body", () => {
    expect(verifySmartcarSignature(body, signature, TOKEN)).toBe(true);
  });

  it("accepts the same MAC written in upper-case hex: the bytes are compared, not the spelling", () => {
    expect(verifySmartcarSignature(body, signature.toUpperCase(), TOKEN)).toBe(true);
  });

  it("rejects a signature made with another token", () => {
    expect(verifySmartcarSignature(body, reference("another-token", body), TOKEN)).toBe(false);
  });

  it("rejects a body changed after signing, even by whitespace", () => {
    expect(verifySmartcarSignature(`${body} `, signature, TOKEN)).toBe(false);
    expect(verifySmartcarSignature(JSON.stringify(JSON.parse(body)), signature, TOKEN)).toBe(false);
  });

  it("rejects a signature with one digit changed", () => {
    const flipped = `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`;
    expect(verifySmartcarSignature(body, flipped, TOKEN)).toBe(false);
  });

  it("rejects a missing, empty, short, long or non-hex header without throwing", () => {
    for (const bad of [
      undefined,
      "",
      signature.slice(0, 63),
      `${signature}0`,
      signature.slice(0, 32),
      `${signature.slice(0, 62)}zz`,
      `sha256=${signature}`,
      ` ${signature}`,
    ]) {
      expect(verifySmartcarSignature(body, bad, TOKEN)).toBe(false);
    }
  });

  it("rejects everything when the management token is empty", () => {
    expect(verifySmartcarSignature(body, reference("", body), "")).toBe(false);
  });
});
