import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProviderAuthError, ProviderUnavailableError } from "#core/providers/errors.ts";
import type { ProviderVehicleRef } from "#core/providers/ports.ts";
import { SmartcarClient } from "#providers/smartcar/client.ts";
import { SmartcarConnectError } from "#providers/smartcar/errors.ts";
import {
  completeSmartcarConnect,
  createSmartcarTokenProvider,
  InMemorySmartcarTokenStore,
  SmartcarOAuth,
} from "#providers/smartcar/oauth.ts";
import { type SmartcarSimulator, startSmartcarSimulator } from "#providers/smartcar/simulator.ts";

const NOW = new Date("2026-03-01T10:00:00.000Z");
const REDIRECT = "https://dashlight.example/connect/smartcar/callback";
const REF: ProviderVehicleRef = {
  vehicleId: "smartcar:veh-1",
  provider: "smartcar",
  providerVehicleId: "veh-1",
  credentialsRef: "smartcar/owner-1",
};

let sim: SmartcarSimulator;
let smartcarOAuth: SmartcarOAuth;

const thrown = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
};

/** Plays the owner's browser: follows Connect (auto-approved by the simulator) to the redirect with code and state. */
const approve = async (url: URL): Promise<URL> => {
  const response = await fetch(url, { redirect: "manual" });
  expect(response.status).toBe(302);
  return new URL(response.headers.get("location") as string);
};

/** The whole Connect callback for the simulator's auto-approved owner, storing the tokens as smartcar/owner-1. */
const connectThrough = async (
  api: Parameters<typeof completeSmartcarConnect>[0]["api"],
  store: InMemorySmartcarTokenStore,
) => {
  const { url, session } = await smartcarOAuth.startConnect();
  const callback = await approve(url);
  return completeSmartcarConnect({
    oauth: smartcarOAuth,
    api,
    store,
    callback,
    session,
    credentialsRef: "smartcar/owner-1",
    now: NOW,
  });
};

beforeEach(async () => {
  sim = await startSmartcarSimulator({
    clientId: "client-1",
    clientSecret: "secret-1",
    vehicles: [
      { id: "veh-1", make: "TESLA", model: "Model 3", year: 2022, location: { lat: 37.77, lon: -122.42 } },
      { id: "veh-2", make: "NISSAN", model: "LEAF", year: 2020, location: { lat: 37.78, lon: -122.41 } },
    ],
  });
  smartcarOAuth = new SmartcarOAuth({
    clientId: "client-1",
    clientSecret: "secret-1",
    redirectUri: REDIRECT,
    scope: ["read_battery", "control_security"],
    authorizeUrl: `${sim.url}/oauth/authorize`,
    tokenUrl: `${sim.url}/oauth/token`,
    mode: "simulated",
  });
});
afterEach(async () => {
  await sim.stop();
});

describe("Smartcar Connect", () => {
  it("builds the authorize URL with a random state and a PKCE S256 challenge", async () => {
    const { url, session } = await smartcarOAuth.startConnect();
    expect(`${url.origin}${url.pathname}`).toBe(`${sim.url}/oauth/authorize`);
    expect(Object.fromEntries(url.searchParams)).toStrictEqual({
      response_type: "code",
      client_id: "client-1",
      redirect_uri: REDIRECT,
      scope: "read_battery control_security",
      state: session.state,
      mode: "simulated",
      code_challenge: createHash("sha256").update(session.codeVerifier).digest("base64url"),
      code_challenge_method: "S256",
    });
    expect(session.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = await smartcarOAuth.startConnect();
    expect(other.session.state).not.toBe(session.state);
  });

  it("exchanges the code, stores the tokens and lists the owner's vehicles", async () => {
    const store = new InMemorySmartcarTokenStore();
    const api = new SmartcarClient({
      baseUrl: sim.url,
      tokens: { getAccessToken: async () => "", markNeedsReauth: async () => undefined },
    });
    const result = await connectThrough(api, store);
    expect(result.vehicles).toStrictEqual([
      { id: "veh-1", make: "TESLA", model: "Model 3", year: 2022 },
      { id: "veh-2", make: "NISSAN", model: "LEAF", year: 2020 },
    ]);
    expect(result.tokens.expiresAt).toBe("2026-03-01T12:00:00.000Z");
    expect(result.tokens.refreshExpiresAt).toBe("2026-04-30T10:00:00.000Z");
    expect(await store.get("smartcar/owner-1")).toStrictEqual({ ...result.tokens, version: 1 });
    const requests = sim.requests.map((request) => `${request.method} ${request.path} ${request.status}`);
    expect(requests.slice(0, 3)).toStrictEqual([
      "GET /oauth/authorize 302",
      "POST /oauth/token 200",
      "GET /vehicles 200",
    ]);
    // Read concurrently: the simulator logs them in the order they end.
    expect(requests.slice(3).sort()).toStrictEqual(["GET /vehicles/veh-1 200", "GET /vehicles/veh-2 200"]);
  });

  it("reads the granted vehicles' attributes concurrently, keeping Smartcar's order, and only then stores the tokens", async () => {
    const store = new InMemorySmartcarTokenStore();
    const steps: string[] = [];
    // The first vehicle answers last: one after another, it would finish before the second starts.
    const api = {
      listVehicleIds: async () => ["veh-1", "veh-2", "veh-3"],
      getVehicleAttributes: async (_token: string, id: string) => {
        steps.push(`start ${id}`);
        await new Promise((resolve) => setTimeout(resolve, id === "veh-1" ? 50 : 5));
        steps.push(`end ${id}`);
        return { id, make: id.toUpperCase() };
      },
    };
    const result = await connectThrough(api, store);
    expect(steps.slice(0, 3)).toStrictEqual(["start veh-1", "start veh-2", "start veh-3"]);
    expect(steps.at(-1)).toBe("end veh-1");
    expect(result.vehicles).toStrictEqual([
      { id: "veh-1", make: "VEH-1" },
      { id: "veh-2", make: "VEH-2" },
      { id: "veh-3", make: "VEH-3" },
    ]);
    expect(await store.get("smartcar/owner-1")).toStrictEqual({ ...result.tokens, version: 1 });
  });

  it("refuses a callback whose state does not match the session, before any token request", async () => {
    const { url, session } = await smartcarOAuth.startConnect();
    const callback = await approve(url);
    const error = await thrown(smartcarOAuth.completeConnect(callback, { ...session, state: "forged-state" }, NOW));
    expect(error).toBeInstanceOf(SmartcarConnectError);
    expect(sim.requestCount({ path: "/oauth/token" })).toBe(0);
  });

  it("runs beforeCodeExchange after the state check and before the token request; what it throws stops the exchange", async () => {
    const { url, session } = await smartcarOAuth.startConnect();
    const callback = await approve(url);
    const calls: string[] = [];
    const forged = await thrown(
      smartcarOAuth.completeConnect(callback, { ...session, state: "forged-state" }, NOW, async () => {
        calls.push("forged");
      }),
    );
    expect(forged).toBeInstanceOf(SmartcarConnectError);
    const refusal = new Error("invite already used");
    const refused = await thrown(
      smartcarOAuth.completeConnect(callback, session, NOW, async () => {
        calls.push(`refused, token requests so far: ${sim.requestCount({ path: "/oauth/token" })}`);
        throw refusal;
      }),
    );
    expect(refused).toBe(refusal);
    await smartcarOAuth.completeConnect(callback, session, NOW, async () => {
      calls.push(`allowed, token requests so far: ${sim.requestCount({ path: "/oauth/token" })}`);
    });
    expect(calls).toStrictEqual(["refused, token requests so far: 0", "allowed, token requests so far: 0"]);
    expect(sim.requestCount({ path: "/oauth/token" })).toBe(1);
  });

  it("reports an owner who denied access", async () => {
    const { session } = await smartcarOAuth.startConnect();
    const callback = new URL(`${REDIRECT}?error=access_denied&error_description=User+denied&state=${session.state}`);
    const error = await thrown(smartcarOAuth.completeConnect(callback, session, NOW));
    expect(error).toBeInstanceOf(SmartcarConnectError);
    expect((error as Error).message).toBe("smartcar: Connect returned access_denied");
  });

  it("a code used twice is a ProviderAuthError", async () => {
    const { url, session } = await smartcarOAuth.startConnect();
    const callback = await approve(url);
    await smartcarOAuth.completeConnect(callback, session, NOW);
    const error = await thrown(smartcarOAuth.completeConnect(callback, session, NOW));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect((error as Error).message).toBe("smartcar: token code exchange rejected: invalid_grant");
  });

  it("a PKCE verifier that does not match the challenge is rejected", async () => {
    const { url, session } = await smartcarOAuth.startConnect();
    const callback = await approve(url);
    const error = await thrown(
      smartcarOAuth.completeConnect(callback, { ...session, codeVerifier: "x".repeat(43) }, NOW),
    );
    expect(error).toBeInstanceOf(ProviderAuthError);
  });
});

describe("createSmartcarTokenProvider", () => {
  const setup = async (expiresAt: string) => {
    const store = new InMemorySmartcarTokenStore();
    const issued = sim.issueTokens(["veh-1"]);
    await store.put(REF.credentialsRef, {
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt,
      refreshExpiresAt: "2026-04-30T10:00:00.000Z",
    });
    const provider = createSmartcarTokenProvider({ oauth: smartcarOAuth, store, now: () => NOW });
    return { store, issued, provider };
  };

  it("serves a token that is far from expiry without calling Smartcar", async () => {
    const { provider, issued } = await setup("2026-03-01T11:00:00.000Z");
    expect(await provider.getAccessToken(REF)).toBe(issued.accessToken);
    expect(sim.requestCount()).toBe(0);
  });

  it("refreshes a token about to expire, stores the rotated tokens, and the new token works", async () => {
    const { provider, store, issued } = await setup("2026-03-01T10:05:00.000Z");
    const [first, second] = await Promise.all([provider.getAccessToken(REF), provider.getAccessToken(REF)]);
    expect(first).toBe(second);
    expect(first).not.toBe(issued.accessToken);
    expect(sim.requestCount({ path: "/oauth/token" })).toBe(1);
    const stored = await store.get(REF.credentialsRef);
    expect(stored?.accessToken).toBe(first);
    expect(stored?.refreshToken).not.toBe(issued.refreshToken);
    expect(stored?.expiresAt).toBe("2026-03-01T12:00:00.000Z");
    const sample = await new SmartcarClient({ baseUrl: sim.url, tokens: provider, pollPaths: ["/battery"] }).poll(
      REF,
      NOW,
    );
    expect(sample.signals.soc_pct?.value).toBe(80);
  });

  it("a rejected refresh marks the credentials as needing re-auth and is never retried", async () => {
    const { provider, store } = await setup("2026-03-01T10:05:00.000Z");
    sim.revokeAllTokens();
    const error = await thrown(provider.getAccessToken(REF));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect((error as Error).message).toBe("smartcar: token refresh rejected: invalid_grant");
    expect((await store.get(REF.credentialsRef))?.needsReauth).toStrictEqual({
      reason: "smartcar: token refresh rejected: invalid_grant",
      at: NOW.toISOString(),
    });
    expect(await thrown(provider.getAccessToken(REF))).toBeInstanceOf(ProviderAuthError);
    expect(sim.requestCount({ path: "/oauth/token" })).toBe(1);
  });

  it("a token endpoint outage keeps serving a token that is still valid", async () => {
    const { provider, issued } = await setup("2026-03-01T10:05:00.000Z");
    sim.script({ kind: "fail", status: 503, path: "/oauth/token" });
    expect(await provider.getAccessToken(REF)).toBe(issued.accessToken);
  });

  it("a token endpoint outage with an expired token is ProviderUnavailableError, not a re-auth", async () => {
    const { provider, store } = await setup("2026-03-01T09:59:00.000Z");
    sim.script({ kind: "fail", status: 503, path: "/oauth/token" });
    expect(await thrown(provider.getAccessToken(REF))).toBeInstanceOf(ProviderUnavailableError);
    expect((await store.get(REF.credentialsRef))?.needsReauth).toBeUndefined();
  });

  it("a 401 from the API marks the credentials as needing re-auth through the client", async () => {
    const { provider, store } = await setup("2026-03-01T11:00:00.000Z");
    sim.script({ kind: "fail", status: 401 });
    const client = new SmartcarClient({ baseUrl: sim.url, tokens: provider });
    expect(await thrown(client.poll(REF, NOW))).toBeInstanceOf(ProviderAuthError);
    expect((await store.get(REF.credentialsRef))?.needsReauth?.at).toBe(NOW.toISOString());
  });

  it("two processes due to refresh the same credentials spend the refresh token once; the loser serves the current token", async () => {
    const { store, issued } = await setup("2026-03-01T10:05:00.000Z");
    const other = createSmartcarTokenProvider({ oauth: smartcarOAuth, store, now: () => NOW });
    const mine = createSmartcarTokenProvider({ oauth: smartcarOAuth, store, now: () => NOW });
    const [first, second] = await Promise.all([mine.getAccessToken(REF), other.getAccessToken(REF)]);
    expect(sim.requestCount({ path: "/oauth/token" })).toBe(1);
    const stored = await store.get(REF.credentialsRef);
    expect([first, second]).toStrictEqual([stored?.accessToken, issued.accessToken]);
    expect(stored).toMatchObject({ version: 3, expiresAt: "2026-03-01T12:00:00.000Z" });
    expect(stored?.needsReauth).toBeUndefined();
    expect(stored?.refreshingUntil).toBeUndefined();
  });

  it("a refresh rejected after the owner reconnected leaves the new tokens alone and serves them", async () => {
    const { store } = await setup("2026-03-01T10:05:00.000Z");
    const reconnected = {
      accessToken: "at-reconnected",
      refreshToken: "rt-reconnected",
      expiresAt: "2026-03-01T12:00:00.000Z",
      refreshExpiresAt: "2026-04-30T10:00:00.000Z",
    };
    const provider = createSmartcarTokenProvider({
      oauth: {
        refresh: async () => {
          await store.put(REF.credentialsRef, reconnected);
          throw new ProviderAuthError("smartcar", "token refresh rejected: invalid_grant");
        },
      },
      store,
      now: () => NOW,
    });
    expect(await provider.getAccessToken(REF)).toBe("at-reconnected");
    expect(await store.get(REF.credentialsRef)).toStrictEqual({ ...reconnected, version: 3 });
  });

  it("no stored credentials is a ProviderAuthError", async () => {
    const provider = createSmartcarTokenProvider({ oauth: smartcarOAuth, store: new InMemorySmartcarTokenStore() });
    expect(await thrown(provider.getAccessToken(REF))).toBeInstanceOf(ProviderAuthError);
  });
});
