import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cookieOf, setCookie, signValue, verifyValue } from "#shared/signed-cookie.ts";

const SECRET = "cookie-secret";
const NOW = new Date("2026-03-01T10:00:00.000Z");
const LATER = new Date("2026-03-01T10:10:00.000Z");

describe("signed cookie values", () => {
  it("gives back the payload it signed until it expires", () => {
    const value = signValue({ state: "s", codeVerifier: "v" }, SECRET, LATER);
    expect(verifyValue(value, SECRET, NOW)).toStrictEqual({ state: "s", codeVerifier: "v" });
    expect(verifyValue(value, SECRET, LATER)).toBeUndefined();
    expect(verifyValue(value, "another-secret", NOW)).toBeUndefined();
  });

  it("refuses any altered character", () => {
    const value = signValue({ state: "s", codeVerifier: "v" }, SECRET, LATER);
    fc.assert(
      fc.property(fc.nat(value.length - 1), fc.constantFrom(..."ABCxyz019-_."), (index, char) => {
        fc.pre(value[index] !== char);
        const altered = `${value.slice(0, index)}${char}${value.slice(index + 1)}`;
        expect(verifyValue(altered, SECRET, NOW)).toBeUndefined();
      }),
    );
  });

  it("reads a cookie from API Gateway's cookies or from a Cookie header", () => {
    expect(cookieOf({ cookies: ["a=1", "session=x.y"] }, "session")).toBe("x.y");
    expect(cookieOf({ headers: { cookie: "a=1; session=x.y=" } }, "session")).toBe("x.y=");
    expect(cookieOf({ headers: {} }, "session")).toBeUndefined();
  });

  it("writes HttpOnly always, and Secure when asked", () => {
    expect(setCookie("s", "v", { maxAgeSeconds: 600, path: "/connect", secure: true, sameSite: "Lax" })).toBe(
      "s=v; Max-Age=600; Path=/connect; HttpOnly; Secure; SameSite=Lax",
    );
    expect(setCookie("s", "", { maxAgeSeconds: 0, path: "/connect", secure: false, sameSite: "Lax" })).toBe(
      "s=; Max-Age=0; Path=/connect; HttpOnly; SameSite=Lax",
    );
  });
});
