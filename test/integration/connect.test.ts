import { createHash, randomBytes } from "node:crypto";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDocumentClient } from "#adapters/aws-clients.ts";
import { AesGcmSealer } from "#adapters/crypto/aes-gcm-sealer.ts";
import { DynamoDbInviteStore } from "#adapters/dynamodb/invite-store.ts";
import { DynamoDbPollRegistry } from "#adapters/dynamodb/poll-registry.ts";
import { DynamoDbSmartcarTokenStore } from "#adapters/dynamodb/smartcar-token-store.ts";
import { DEFAULT_INVITE_LIFETIME_MS, newInvite } from "#core/invites/invite.ts";
import type { SignalSamples } from "#core/model/signals.ts";
import type { LocalRuntime } from "#local/runtime.ts";
import { type SmartcarSimulator, smartcarSimulatorEnv, startSmartcarSimulator } from "#providers/smartcar/simulator.ts";
import { cliTarget, getJson, scanTable, startTestRuntime } from "#test/support/local-runtime.ts";
import { connectCommand } from "../../cli/connect.ts";

/**
 * Smartcar Connect end to end: the local runtime's connect handler, Smartcar's simulator (auto-approving Connect,
 * its token endpoint and Vehicles API) over real sockets, the poll scheduler and workers. Connect is by invitation:
 * every flow starts from an invite made through the real store (or `dashlight connect invite`).
 *
 * The redirect URI registered with Smartcar is the public callback URL; the runtime listens on an ephemeral port
 * chosen after its handlers read their configuration, so the test (the owner's browser) replays the callback the
 * simulator redirects to on the runtime's address, as a reverse proxy would.
 */
const CLIENT_ID = "dashlight-test-client";
const CLIENT_SECRET = "dashlight-test-client-secret";
const REDIRECT_URI = "http://127.0.0.1:1/connect/smartcar/callback";
const TOKEN_KEY = randomBytes(32);
/** The simulator's clock stands still, so every value it reports, and when, is exact. */
const SIM_NOW = Date.parse("2026-03-01T10:00:00.000Z");
const OBSERVED_AT = new Date(SIM_NOW).toISOString();
const COOKIE_NAME = "dashlight_smartcar_connect";
const START_AGAIN = "open your invite link again";
const NEW_INVITE = "ask the operator for a new invite link";
/** The Set-Cookie that ends the Connect session (after a success, and with a 403 at the callback). */
const CLEAR_COOKIE = "dashlight_smartcar_connect=; Max-Age=0; Path=/connect/smartcar; HttpOnly; SameSite=Lax";
/** What a start with an invite used before gets: no session, nothing more. */
const USED = { status: 403, setCookie: null, body: { error: `this invite was already used: ${NEW_INVITE}` } };
/** What a callback with an invite used before gets: its session ends. */
const USED_AT_CALLBACK = { ...USED, setCookie: CLEAR_COOKIE };
const INVITE_REQUIRED =
  "required: Connect is by invitation; open the invite link you were given (the operator makes one with `npx dashlight connect invite`)";

let runtime: LocalRuntime;
let sim: SmartcarSimulator;
let registry: DynamoDbPollRegistry;
let tokens: DynamoDbSmartcarTokenStore;
let invites: DynamoDbInviteStore;

beforeAll(async () => {
  sim = await startSmartcarSimulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    now: () => SIM_NOW,
    vehicles: [
      {
        id: "sc-ev-1",
        make: "TESLA",
        model: "Model 3",
        year: 2022,
        vin: "5YJ3E1EA7KF000001",
        location: { lat: 52.52, lon: 13.405 },
        soc: 0.64,
        odometerKm: 12_345,
        locked: true,
      },
      {
        id: "sc-ev-2",
        make: "NISSAN",
        model: "LEAF",
        year: 2020,
        vin: "1N4AZ1CP0LC000002",
        location: { lat: 48.137, lon: 11.575 },
        soc: 0.5,
        odometerKm: 40_000,
        locked: false,
      },
    ],
  });
  // The handlers read their configuration at cold start, as in AWS: set it before the runtime imports them.
  Object.assign(process.env, {
    ...smartcarSimulatorEnv(sim.url, { id: CLIENT_ID, secret: CLIENT_SECRET }, REDIRECT_URI),
    DASHLIGHT_TOKEN_ENCRYPTION_KEY: TOKEN_KEY.toString("base64"),
    DASHLIGHT_CONNECT_COOKIE_SECRET: "test-connect-cookie-secret",
  });
  runtime = await startTestRuntime();
  const documentClient = createDocumentClient(runtime.endpoints);
  registry = new DynamoDbPollRegistry(documentClient, runtime.provisioned.tableName);
  tokens = new DynamoDbSmartcarTokenStore(documentClient, runtime.provisioned.tableName, new AesGcmSealer(TOKEN_KEY));
  invites = new DynamoDbInviteStore(documentClient, runtime.provisioned.tableName);
});
afterAll(async () => {
  await runtime?.stop();
  await sim?.stop();
});

/** A new invite, as `dashlight connect invite` makes it (for one vehicle unless told); its id. */
const makeInvite = async (options: { timeZone?: string; tags?: string[]; vehicles?: number; now?: Date } = {}) => {
  const invite = newInvite({
    timeZone: options.timeZone,
    tags: options.tags ?? [],
    ...(options.vehicles === undefined ? {} : { vehicles: options.vehicles }),
    lifetimeMs: DEFAULT_INVITE_LIFETIME_MS,
    now: options.now ?? new Date(),
  });
  await invites.create(invite);
  return invite.id;
};

/** GET /connect/smartcar?invite=…, then Smartcar's (auto-approved) authorize page: the callback URL on the runtime. */
const startConnect = (invite: string, query = "") =>
  followInviteLink(`${runtime.url}/connect/smartcar?invite=${invite}${query}`);

const followInviteLink = async (link: URL | string) => {
  const start = await fetch(link, { redirect: "manual" });
  expect(start.status).toBe(302);
  const setCookie = start.headers.get("set-cookie") ?? "";
  const authorize = new URL(start.headers.get("location") ?? "");
  const approved = await fetch(authorize, { redirect: "manual" });
  expect(approved.status).toBe(302);
  const redirect = new URL(approved.headers.get("location") ?? "");
  return {
    setCookie,
    authorize,
    cookie: setCookie.split(";")[0] ?? "",
    redirect,
    callback: new URL(`${redirect.pathname}${redirect.search}`, runtime.url),
  };
};

/** GET /connect/smartcar refused: status, body, and whether it set a cookie. */
const refusedStart = async (query: string) => {
  const response = await fetch(`${runtime.url}/connect/smartcar${query}`, { redirect: "manual" });
  return {
    status: response.status,
    setCookie: response.headers.get("set-cookie"),
    body: (await response.json()) as Record<string, unknown>,
  };
};

const callback = async (url: URL | string, cookie: string | undefined) => {
  const response = await fetch(url, {
    headers: { accept: "application/json", ...(cookie === undefined ? {} : { cookie }) },
  });
  return {
    status: response.status,
    setCookie: response.headers.get("set-cookie"),
    body: (await response.json()) as { credentialsRef: string; vehicles: unknown[] },
  };
};

/** The signed session cookie's payload (signed, not encrypted: the browser can read it). */
const sessionPayload = (cookie: string) =>
  JSON.parse(
    Buffer.from(cookie.slice(COOKIE_NAME.length + 1).split(".")[0] ?? "", "base64url").toString("utf8"),
  ) as Record<string, unknown>;

/** GET /connect/smartcar?invite=…: the session cookie and the Connect URL, not yet followed. */
const startOnly = async (invite: string) => {
  const start = await fetch(`${runtime.url}/connect/smartcar?invite=${invite}`, { redirect: "manual" });
  expect(start.status).toBe(302);
  return {
    cookie: (start.headers.get("set-cookie") ?? "").split(";")[0] ?? "",
    authorize: new URL(start.headers.get("location") ?? ""),
  };
};

/** Smartcar's (auto-approved) Connect page at `authorize`: the callback URL on the runtime. */
const approveAt = async (authorize: URL) => {
  const approved = await fetch(authorize, { redirect: "manual" });
  expect(approved.status).toBe(302);
  const redirect = new URL(approved.headers.get("location") ?? "");
  return new URL(`${redirect.pathname}${redirect.search}`, runtime.url);
};

/** GET /connect/smartcar refused for its ?time_zone=. */
const timeZoneRefused = (message: string) => ({
  status: 400,
  setCookie: null,
  body: { error: "invalid query", issues: [{ path: "query.time_zone", message }] },
});

const UNKNOWN = { status: 403, setCookie: null, body: { error: `unknown invite: check the link, or ${NEW_INVITE}` } };

/** The vehicle's registration, as the management API shows it. */
const registration = async (vehicleId: string) =>
  (
    (await getJson(`${runtime.url}/vehicles/${encodeURIComponent(vehicleId)}`)).body as {
      vehicle: Record<string, unknown>;
    }
  ).vehicle;

const snapshotSignals = async (vehicleId: string) =>
  (
    (await getJson(`${runtime.url}/vehicles/${encodeURIComponent(vehicleId)}`)).body.snapshot as {
      signals: SignalSamples;
    }
  )?.signals;

const credentialItems = async () =>
  (await scanTable(runtime)).filter((item) => (item.pk as { S: string }).S.startsWith("CREDENTIALS#")).length;
/** What Connect has spent so far: code exchanges at Smartcar, token items in the table, authorize pages shown. */
const spent = async () => ({
  tokenCalls: sim.requestCount({ path: "/oauth/token" }),
  credentials: await credentialItems(),
  authorizePages: sim.requestCount({ path: "/oauth/authorize" }),
});
/** `spent()` after exactly one more Connect since `before`: one code exchange, one token item. */
const oneConnectSince = (before: Awaited<ReturnType<typeof spent>>) => ({
  ...before,
  tokenCalls: before.tokenCalls + 1,
  credentials: before.credentials + 1,
});

let firstRef = "";

describe("Smartcar Connect through the local runtime", () => {
  it("redirects to Connect, registers the owner's vehicles from the callback and polls them", async () => {
    const invite = await makeInvite({ vehicles: 2 });
    const connect = await startConnect(invite, "&time_zone=Europe/Berlin");
    // An invite for several vehicles lets the owner select several.
    expect(connect.authorize.searchParams.has("single_select")).toBe(false);
    expect(connect.setCookie).toMatch(
      /^dashlight_smartcar_connect=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/connect\/smartcar; HttpOnly; SameSite=Lax$/,
    );
    expect(`${connect.authorize.origin}${connect.authorize.pathname}`).toBe(`${sim.url}/oauth/authorize`);
    expect(connect.authorize.searchParams.get("redirect_uri")).toBe(REDIRECT_URI);
    expect(`${connect.redirect.origin}${connect.redirect.pathname}`).toBe(REDIRECT_URI);

    const answer = await callback(connect.callback, connect.cookie);
    expect(answer.status).toBe(200);
    firstRef = answer.body.credentialsRef;
    expect(firstRef).toMatch(/^smartcar-[0-9a-f]{24}$/);
    expect(answer.body).toStrictEqual({
      credentialsRef: firstRef,
      vehicles: [
        { id: "smartcar:sc-ev-1", displayName: "2022 TESLA Model 3", timeZone: "Europe/Berlin" },
        { id: "smartcar:sc-ev-2", displayName: "2020 NISSAN LEAF", timeZone: "Europe/Berlin" },
      ],
    });
    expect(answer.setCookie).toBe(CLEAR_COOKIE);
    expect(await invites.get(invite)).toMatchObject({ usedAt: expect.any(String), credentialsRef: firstRef });

    const vehicle = await registration("smartcar:sc-ev-1");
    expect(vehicle).toStrictEqual({
      id: "smartcar:sc-ev-1",
      provider: "smartcar",
      providerVehicleId: "sc-ev-1",
      displayName: "2022 TESLA Model 3",
      tags: [],
      timeZone: "Europe/Berlin",
      contacts: [],
      credentialsRef: firstRef,
      createdAt: vehicle.createdAt,
    });
    expect(JSON.stringify(await scanTable(runtime))).not.toContain("5YJ3E1EA7KF000001");
    expect(await registry.get("smartcar:sc-ev-2")).toMatchObject({
      provider: "smartcar",
      providerVehicleId: "sc-ev-2",
      credentialsRef: firstRef,
      needsReauth: false,
      version: 1,
    });
    expect(await tokens.get(firstRef)).toMatchObject({ version: 1, expiresAt: expect.any(String) });

    expect(await runtime.schedulePolls()).toStrictEqual({ jobs: 2 });
    await vi.waitFor(
      async () => {
        expect((await snapshotSignals("smartcar:sc-ev-1"))?.soc_pct).toStrictEqual({
          value: 64,
          observedAt: OBSERVED_AT,
        });
        expect((await snapshotSignals("smartcar:sc-ev-2"))?.soc_pct).toStrictEqual({
          value: 50,
          observedAt: OBSERVED_AT,
        });
      },
      { timeout: 15_000, interval: 200 },
    );
    const first = await snapshotSignals("smartcar:sc-ev-1");
    expect([first?.odometer_km, first?.location, first?.is_locked]).toStrictEqual([
      { value: 12_345, observedAt: OBSERVED_AT },
      { value: { lat: 52.52, lon: 13.405 }, observedAt: OBSERVED_AT },
      { value: true, observedAt: OBSERVED_AT },
    ]);
    expect((await snapshotSignals("smartcar:sc-ev-2"))?.is_locked).toStrictEqual({
      value: false,
      observedAt: OBSERVED_AT,
    });
    // One code exchange, no refresh (the tokens are two hours from expiry), one batch per vehicle.
    expect(sim.requestCount({ path: "/oauth/token" })).toBe(1);
    expect(sim.requestCount({ path: "/batch" })).toBe(2);
  });

  it("refuses a callback whose state was tampered with, and stores nothing, nor uses the invite", async () => {
    const invite = await makeInvite();
    const connect = await startConnect(invite);
    const before = { tokenCalls: sim.requestCount({ path: "/oauth/token" }), credentials: await credentialItems() };
    const forged = new URL(connect.callback);
    forged.searchParams.set("state", "forged-state");
    expect(await callback(forged, connect.cookie)).toStrictEqual({
      status: 400,
      setCookie: null,
      body: {
        error: `the callback does not belong to this Connect session (state mismatch or no code); ${START_AGAIN}`,
      },
    });
    expect({
      tokenCalls: sim.requestCount({ path: "/oauth/token" }),
      credentials: await credentialItems(),
    }).toStrictEqual(before);
    expect((await invites.get(invite))?.usedAt).toBeUndefined();
  });

  it("refuses a tampered, or missing, session cookie, and stores nothing, nor uses the invite", async () => {
    const invite = await makeInvite();
    const connect = await startConnect(invite);
    const before = { tokenCalls: sim.requestCount({ path: "/oauth/token" }), credentials: await credentialItems() };
    const value = connect.cookie.slice(COOKIE_NAME.length + 1);
    const [payload = "", signature = ""] = value.split(".");
    const flipped = `${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`;
    const tampered = [`${COOKIE_NAME}=${payload}.${flipped}`, `${COOKIE_NAME}=${payload.slice(1)}.${signature}`];
    for (const cookie of tampered) {
      expect(await callback(connect.callback, cookie)).toStrictEqual({
        status: 400,
        setCookie: null,
        body: { error: `the Connect session cookie is invalid or expired; ${START_AGAIN}` },
      });
    }
    expect(await callback(connect.callback, undefined)).toStrictEqual({
      status: 400,
      setCookie: null,
      body: { error: `no Connect session: its cookie is missing or expired; ${START_AGAIN}` },
    });
    expect({
      tokenCalls: sim.requestCount({ path: "/oauth/token" }),
      credentials: await credentialItems(),
    }).toStrictEqual(before);
    expect((await invites.get(invite))?.usedAt).toBeUndefined();
  });

  it("reports an owner who denied access, and stores nothing: the invite stays usable", async () => {
    const invite = await makeInvite();
    const start = await fetch(`${runtime.url}/connect/smartcar?invite=${invite}`, { redirect: "manual" });
    const cookie = (start.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const state = new URL(start.headers.get("location") ?? "").searchParams.get("state") ?? "";
    const before = await credentialItems();
    const denied = `${runtime.url}/connect/smartcar/callback?error=access_denied&error_description=User+denied+access&state=${state}`;
    expect(await callback(denied, cookie)).toStrictEqual({
      status: 400,
      setCookie: null,
      body: { error: "Smartcar Connect did not grant access (access_denied): nothing was connected" },
    });
    expect(await credentialItems()).toBe(before);
    expect((await invites.get(invite))?.usedAt).toBeUndefined();
    expect((await startConnect(invite)).callback.searchParams.get("code")).toStrictEqual(expect.any(String));
  });

  it("refuses an unknown time zone before redirecting", async () => {
    const invite = await makeInvite();
    const response = await fetch(`${runtime.url}/connect/smartcar?invite=${invite}&time_zone=Mars%2FOlympus`, {
      redirect: "manual",
    });
    expect({ status: response.status, body: await response.json() }).toStrictEqual({
      status: 400,
      body: {
        error: "invalid query",
        issues: [{ path: "query.time_zone", message: "must be an IANA time zone such as Europe/Berlin" }],
      },
    });
  });

  it("a refused refresh marks the vehicles as needing re-auth after one attempt, and their polling stops", async () => {
    // The access token is about to expire (inside the 10-minute refresh margin), and the owner revoked access.
    const stored = await tokens.get(firstRef);
    if (stored === undefined) throw new Error("no tokens stored by the first test");
    const { accessToken, refreshToken, refreshExpiresAt } = stored;
    await tokens.put(firstRef, {
      accessToken,
      refreshToken,
      refreshExpiresAt,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    for (const vehicleId of ["smartcar:sc-ev-1", "smartcar:sc-ev-2"]) {
      const registration = await registry.get(vehicleId);
      if (registration === undefined) throw new Error(`${vehicleId} is not registered for polling`);
      await registry.save({
        ...registration,
        state: { ...registration.state, nextPollAt: new Date().toISOString() },
        version: registration.version + 1,
      });
    }
    sim.revokeAllTokens();
    const tokenCalls = sim.requestCount({ path: "/oauth/token" });
    const batches = sim.requestCount({ path: "/batch" });

    expect(await runtime.schedulePolls()).toStrictEqual({ jobs: 2 });
    await vi.waitFor(
      async () => {
        expect((await registry.get("smartcar:sc-ev-1"))?.needsReauth).toBe(true);
        expect((await registry.get("smartcar:sc-ev-2"))?.needsReauth).toBe(true);
      },
      { timeout: 15_000, interval: 200 },
    );
    const reason = "smartcar: token refresh rejected: invalid_grant";
    expect((await tokens.get(firstRef))?.needsReauth?.reason).toBe(reason);
    for (const vehicleId of ["smartcar:sc-ev-1", "smartcar:sc-ev-2"]) {
      const registration = await registry.get(vehicleId);
      expect(registration?.state.consecutiveFailures).toBe(1);
      // The second vehicle fails on the stored mark (or shares the one refresh), without a call to Smartcar.
      expect([reason, expect.stringMatching(/^smartcar: credentials need re-authorization since /)]).toContainEqual(
        registration?.lastError,
      );
    }
    // One refresh attempt, refused; no data request with the dead credentials.
    expect(sim.requestCount({ path: "/oauth/token" })).toBe(tokenCalls + 1);
    expect(sim.requests.at(-1)).toMatchObject({ method: "POST", path: "/oauth/token", status: 400 });
    expect(sim.requestCount({ path: "/batch" })).toBe(batches);
    // Never retried: a vehicle needing re-auth is not due again.
    expect(await runtime.schedulePolls()).toStrictEqual({ jobs: 0 });
    expect(sim.requestCount({ path: "/oauth/token" })).toBe(tokenCalls + 1);
  });

  it("reconnecting resumes polling under the new credentials, keeping each vehicle's registration", async () => {
    const connect = await startConnect(
      await makeInvite({ tags: ["ignored-on-reconnect"], vehicles: 2 }),
      "&time_zone=America/New_York",
    );
    const answer = await callback(connect.callback, connect.cookie);
    expect(answer.status).toBe(200);
    const ref = answer.body.credentialsRef;
    expect(ref).not.toBe(firstRef);
    expect(answer.body.vehicles).toStrictEqual([
      { id: "smartcar:sc-ev-1", displayName: "2022 TESLA Model 3", timeZone: "Europe/Berlin" },
      { id: "smartcar:sc-ev-2", displayName: "2020 NISSAN LEAF", timeZone: "Europe/Berlin" },
    ]);
    expect(await registration("smartcar:sc-ev-1")).toMatchObject({
      tags: [],
      timeZone: "Europe/Berlin",
    });
    expect(await registry.get("smartcar:sc-ev-1")).toMatchObject({
      credentialsRef: ref,
      needsReauth: false,
      staleSince: null,
      lastError: null,
      state: { consecutiveFailures: 0 },
    });
    const batches = sim.requestCount({ path: "/batch" });
    expect(await runtime.schedulePolls()).toStrictEqual({ jobs: 2 });
    await vi.waitFor(async () => expect(sim.requestCount({ path: "/batch" })).toBe(batches + 2), {
      timeout: 15_000,
      interval: 200,
    });
    await vi.waitFor(async () => expect((await registry.get("smartcar:sc-ev-2"))?.staleSince).toBeNull(), {
      timeout: 15_000,
      interval: 200,
    });
  });

  it("refuses to start without an invite, naming the parameter and how to get one", async () => {
    const before = await spent();
    for (const query of ["", "?invite=", "?time_zone=Europe/Berlin"]) {
      expect(await refusedStart(query)).toStrictEqual({
        status: 400,
        setCookie: null,
        body: { error: "invalid query", issues: [{ path: "query.invite", message: INVITE_REQUIRED }] },
      });
    }
    expect(await spent()).toStrictEqual(before);
  });

  it("refuses an unknown invite with 403 and says nothing more", async () => {
    const before = await spent();
    for (const invite of [randomBytes(24).toString("base64url"), "not-an-invite"]) {
      expect(await refusedStart(`?invite=${invite}`)).toStrictEqual({
        status: 403,
        setCookie: null,
        body: { error: `unknown invite: check the link, or ${NEW_INVITE}` },
      });
    }
    expect(await spent()).toStrictEqual(before);
  });

  it("refuses an expired invite with 403, before redirecting", async () => {
    const before = await spent();
    const expired = await makeInvite({ now: new Date(Date.now() - DEFAULT_INVITE_LIFETIME_MS - 1000) });
    expect(await refusedStart(`?invite=${expired}`)).toStrictEqual({
      status: 403,
      setCookie: null,
      body: { error: `this invite has expired: ${NEW_INVITE}` },
    });
    expect(await spent()).toStrictEqual(before);
  });

  it("refuses at the callback an invite that expired after its start, before the code is exchanged", async () => {
    // Expires at the second boundary two to three seconds from now (expiries are whole seconds).
    const expiresAt = Math.ceil(Date.now() / 1000) * 1000 + 2000;
    const invite = await makeInvite({ now: new Date(expiresAt - DEFAULT_INVITE_LIFETIME_MS) });
    const connect = await startConnect(invite);
    const before = await spent();
    await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 50));
    expect(await callback(connect.callback, connect.cookie)).toStrictEqual({
      status: 403,
      setCookie: CLEAR_COOKIE,
      body: { error: `this invite has expired: ${NEW_INVITE}` },
    });
    expect(await spent()).toStrictEqual(before);
    expect((await invites.get(invite))?.usedAt).toBeUndefined();
  });

  it("gives the vehicles it connects the invite's time zone and tags, through the link `dashlight connect invite` printed", async () => {
    sim.addVehicle({ id: "sc-ev-3", make: "KIA", model: "EV6", year: 2023, location: { lat: 35.68, lon: 139.76 } });
    const out: string[] = [];
    const io = { out: { write: (text: string) => out.push(text) }, err: { write: (text: string) => out.push(text) } };
    const code = await connectCommand(
      ["invite", "--vehicles", "3", "--time-zone", "asia/tokyo", "--tags", " fleet , van "],
      () => cliTarget(runtime),
      io,
    );
    expect(code).toBe(0);
    const link = new URL(out.join("").split("\n")[0] ?? "");
    expect(`${link.origin}${link.pathname}`).toBe(`${runtime.url}/connect/smartcar`);

    const connect = await followInviteLink(link);
    const answer = await callback(connect.callback, connect.cookie);
    expect(answer.status).toBe(200);
    // New vehicles take the invite's; those registered before keep theirs (a reconnect).
    expect(answer.body.vehicles).toStrictEqual([
      { id: "smartcar:sc-ev-1", displayName: "2022 TESLA Model 3", timeZone: "Europe/Berlin" },
      { id: "smartcar:sc-ev-2", displayName: "2020 NISSAN LEAF", timeZone: "Europe/Berlin" },
      { id: "smartcar:sc-ev-3", displayName: "2023 KIA EV6", timeZone: "Asia/Tokyo" },
    ]);
    const vehicle = await registration("smartcar:sc-ev-3");
    expect(vehicle).toStrictEqual({
      id: "smartcar:sc-ev-3",
      provider: "smartcar",
      providerVehicleId: "sc-ev-3",
      displayName: "2023 KIA EV6",
      tags: ["fleet", "van"],
      timeZone: "Asia/Tokyo",
      contacts: [],
      credentialsRef: answer.body.credentialsRef,
      createdAt: vehicle.createdAt,
    });
    expect(await registration("smartcar:sc-ev-1")).toMatchObject({ tags: [] });
  });

  it("refuses a ?time_zone= that differs from the invite's, and accepts the same one", async () => {
    const invite = await makeInvite({ timeZone: "Europe/Berlin" });
    expect(await refusedStart(`?invite=${invite}&time_zone=America/New_York`)).toStrictEqual(
      timeZoneRefused("differs from the invite's time zone Europe/Berlin: leave it out"),
    );
    expect((await startConnect(invite, "&time_zone=Europe/Berlin")).setCookie).toMatch(/^dashlight_smartcar_connect=/);
  });

  it("a used invite cannot be used again: a second flow is refused at its start, and tokens are stored once", async () => {
    const invite = await makeInvite();
    const first = await startConnect(invite);
    const before = await spent();
    expect((await callback(first.callback, first.cookie)).status).toBe(200);
    expect(await refusedStart(`?invite=${invite}`)).toStrictEqual(USED);
    // Replaying the first callback with its cookie (a second tab) is refused too, before any code exchange.
    expect(await callback(first.callback, first.cookie)).toStrictEqual(USED_AT_CALLBACK);
    expect(await spent()).toStrictEqual(oneConnectSince(before));
  });

  it("of two starts with one invite, the first callback wins and the second is refused before its code is exchanged", async () => {
    const invite = await makeInvite();
    const first = await startConnect(invite);
    const second = await startConnect(invite);
    const before = await spent();
    const won = await callback(first.callback, first.cookie);
    expect(won.status).toBe(200);
    expect(await callback(second.callback, second.cookie)).toStrictEqual(USED_AT_CALLBACK);
    expect(await spent()).toStrictEqual(oneConnectSince(before));
    expect(await invites.get(invite)).toMatchObject({ credentialsRef: won.body.credentialsRef });
  });

  it("of two callbacks racing on one invite, exactly one connects", async () => {
    const invite = await makeInvite();
    const flows = [await startConnect(invite), await startConnect(invite)];
    const before = await spent();
    const answers = await Promise.all(flows.map((flow) => callback(flow.callback, flow.cookie)));
    expect(answers.map((answer) => answer.status).sort()).toStrictEqual([200, 403]);
    expect(await spent()).toStrictEqual(oneConnectSince(before));
  });
  it("a code Smartcar refuses answers 400 and releases the invite: the same link then connects", async () => {
    const invite = await makeInvite({ vehicles: 3 });
    const connect = await startConnect(invite);
    const before = await spent();
    const bogus = new URL(connect.callback);
    bogus.searchParams.set("code", "bogus-code");
    expect(await callback(bogus, connect.cookie)).toStrictEqual({
      status: 400,
      setCookie: null,
      body: { error: "Smartcar refused the authorization code (used or expired); open your invite link again" },
    });
    // The code went to Smartcar and was refused; nothing was stored, and the invite is as it was made.
    expect(await spent()).toStrictEqual({ ...before, tokenCalls: before.tokenCalls + 1 });
    const stored = await invites.get(invite);
    expect([stored?.usedAt, stored?.credentialsRef]).toStrictEqual([undefined, undefined]);

    const again = await startConnect(invite);
    const answer = await callback(again.callback, again.cookie);
    expect(answer.status).toBe(200);
    expect(await invites.get(invite)).toMatchObject({ credentialsRef: answer.body.credentialsRef });
  });

  it("a failure after the code exchange (listing the vehicles) stores no tokens and releases the invite", async () => {
    const invite = await makeInvite({ vehicles: 3 });
    const connect = await startConnect(invite);
    const before = await spent();
    // Every attempt of the client (3) fails, so the callback does.
    sim.script({ kind: "fail", status: 500, path: "/vehicles", method: "GET", times: 3 });
    const failed = await fetch(connect.callback, { headers: { accept: "application/json", cookie: connect.cookie } });
    expect(failed.status).toBe(500);
    await failed.body?.cancel();
    expect(await spent()).toStrictEqual({ ...before, tokenCalls: before.tokenCalls + 1 });
    expect((await invites.get(invite))?.usedAt).toBeUndefined();
  });

  it("an invite connects one vehicle by default: Connect asks for single_select, a grant of more is refused, nothing is kept and the invite is released", async () => {
    const invite = await makeInvite();
    const { cookie, authorize } = await startOnly(invite);
    expect(authorize.searchParams.get("single_select")).toBe("true");
    // The owner's browser holds the Connect URL: without single_select, Smartcar lets them select every car.
    authorize.searchParams.delete("single_select");
    const tampered = await approveAt(authorize);
    const before = await spent();
    const refsBefore = await Promise.all(
      ["smartcar:sc-ev-1", "smartcar:sc-ev-2", "smartcar:sc-ev-3"].map(
        async (id) => (await registry.get(id))?.credentialsRef,
      ),
    );
    expect(await callback(tampered, cookie)).toStrictEqual({
      status: 403,
      setCookie: CLEAR_COOKIE,
      body: {
        error:
          "this invite connects at most 1 vehicle and Smartcar granted 3: nothing was connected; " +
          "open your invite link again and select at most 1 vehicle",
      },
    });
    expect(await spent()).toStrictEqual({ ...before, tokenCalls: before.tokenCalls + 1 });
    expect(
      await Promise.all(
        ["smartcar:sc-ev-1", "smartcar:sc-ev-2", "smartcar:sc-ev-3"].map(
          async (id) => (await registry.get(id))?.credentialsRef,
        ),
      ),
    ).toStrictEqual(refsBefore);
    expect((await invites.get(invite))?.usedAt).toBeUndefined();

    const again = await startConnect(invite);
    expect(again.authorize.searchParams.get("single_select")).toBe("true");
    const answer = await callback(again.callback, again.cookie);
    expect([answer.status, answer.body.vehicles]).toStrictEqual([
      200,
      [{ id: "smartcar:sc-ev-1", displayName: "2022 TESLA Model 3", timeZone: "Europe/Berlin" }],
    ]);
  });

  it("keeps the invite's SHA-256 in the session cookie, never the invite id", async () => {
    const invite = await makeInvite();
    const connect = await startConnect(invite);
    expect(sessionPayload(connect.cookie)).toStrictEqual({
      state: expect.any(String),
      codeVerifier: expect.any(String),
      timeZone: "UTC",
      inviteKey: createHash("sha256").update(invite).digest("base64url"),
      exp: expect.any(Number),
    });
    expect(JSON.stringify(sessionPayload(connect.cookie))).not.toContain(invite);
  });

  it("refuses an ?invite= not shaped like an invite id with the unknown-invite 403, without reading the table", async () => {
    const send = vi.spyOn(DynamoDBDocumentClient.prototype, "send");
    const inviteReads = () =>
      send.mock.calls.filter(
        ([command]) => command instanceof GetCommand && String(command.input.Key?.pk).startsWith("INVITE#"),
      ).length;
    try {
      for (const invite of ["not-an-invite", "A".repeat(31), "A".repeat(33), `${"A".repeat(31)}=`, "%00".repeat(32)]) {
        expect(await refusedStart(`?invite=${encodeURIComponent(invite)}`)).toStrictEqual(UNKNOWN);
      }
      expect(inviteReads()).toBe(0);
      // A well-formed unknown id is read (so the spy does see the handler's reads).
      expect(await refusedStart(`?invite=${randomBytes(24).toString("base64url")}`)).toStrictEqual(UNKNOWN);
      expect(inviteReads()).toBe(1);
    } finally {
      send.mockRestore();
    }
  });

  it("takes time zones as given with their case fixed, compares them by meaning, and refuses UTC offsets", async () => {
    const plain = await makeInvite();
    expect(sessionPayload((await startConnect(plain, "&time_zone=europe/berlin")).cookie).timeZone).toBe(
      "Europe/Berlin",
    );
    expect(await refusedStart(`?invite=${plain}&time_zone=%2B01:00`)).toStrictEqual(
      timeZoneRefused("a UTC offset is not a time zone: use an IANA name such as Europe/Berlin"),
    );
    // An invite stored with its time zone as typed (before names were normalised) is compared with its case fixed.
    const legacy = newInvite({ tags: [], lifetimeMs: DEFAULT_INVITE_LIFETIME_MS, now: new Date() });
    await invites.create({ ...legacy, timeZone: "europe/berlin" });
    expect(sessionPayload((await startConnect(legacy.id, "&time_zone=Europe/Berlin")).cookie).timeZone).toBe(
      "Europe/Berlin",
    );
    expect(await refusedStart(`?invite=${legacy.id}&time_zone=utc`)).toStrictEqual(
      timeZoneRefused("differs from the invite's time zone Europe/Berlin: leave it out"),
    );
    // Kept as given (Intl resolves Europe/Kyiv to the ICU alias Europe/Kiev), and the same zone by either name.
    expect(sessionPayload((await startConnect(plain, "&time_zone=Europe/Kyiv")).cookie).timeZone).toBe("Europe/Kyiv");
    const kyiv = await makeInvite({ timeZone: "Europe/Kyiv" });
    expect((await invites.get(kyiv))?.timeZone).toBe("Europe/Kyiv");
    expect(sessionPayload((await startConnect(kyiv, "&time_zone=europe/kiev")).cookie).timeZone).toBe("Europe/Kyiv");
    expect(await refusedStart(`?invite=${kyiv}&time_zone=Europe/Berlin`)).toStrictEqual(
      timeZoneRefused("differs from the invite's time zone Europe/Kyiv: leave it out"),
    );
  });

  it("a grant of no vehicle answers 400 before the tokens are stored, and releases the invite", async () => {
    const invite = await makeInvite();
    const connect = await startConnect(invite);
    const before = await spent();
    sim.script({
      kind: "fail",
      status: 200,
      path: "/vehicles",
      method: "GET",
      body: { vehicles: [], paging: { count: 0, offset: 0 } },
    });
    expect(await callback(connect.callback, connect.cookie)).toStrictEqual({
      status: 400,
      setCookie: null,
      body: {
        error: `Smartcar granted access to no vehicle: nothing was connected; ${START_AGAIN} and select a vehicle`,
      },
    });
    expect(await spent()).toStrictEqual({ ...before, tokenCalls: before.tokenCalls + 1 });
    const stored = await invites.get(invite);
    expect([stored?.usedAt, stored?.credentialsRef]).toStrictEqual([undefined, undefined]);
  });

  it("Smartcar refusing the new token when listing the vehicles is reported as such, not as a refused code", async () => {
    const invite = await makeInvite();
    const connect = await startConnect(invite);
    const before = await spent();
    sim.script({ kind: "fail", status: 401, path: "/vehicles", method: "GET" });
    expect(await callback(connect.callback, connect.cookie)).toStrictEqual({
      status: 400,
      setCookie: null,
      body: {
        error: `Smartcar refused access to the vehicles after authorizing: nothing was connected; ${START_AGAIN}`,
      },
    });
    expect(await spent()).toStrictEqual({ ...before, tokenCalls: before.tokenCalls + 1 });
    const stored = await invites.get(invite);
    expect([stored?.usedAt, stored?.credentialsRef]).toStrictEqual([undefined, undefined]);
  });

  it("a failure registering the vehicles after the tokens are stored answers 500 and keeps the invite used", async () => {
    // The seam: the handler builds its stores at cold start, so the table itself refuses the vehicle's registration
    // (the document client's send, shared by every store in this process, rejects a vehicle profile's put).
    const realSend = DynamoDBDocumentClient.prototype.send;
    const send = vi.spyOn(DynamoDBDocumentClient.prototype, "send");
    const refused: string[] = [];
    send.mockImplementation(function (this: DynamoDBDocumentClient, ...args: Parameters<typeof send>) {
      const [command] = args;
      if (command instanceof PutCommand && command.input.Item?.sk === "PROFILE") {
        refused.push(String(command.input.Item.pk));
        return Promise.reject(new Error("the table refused the write"));
      }
      return realSend.apply(this, args);
    } as typeof DynamoDBDocumentClient.prototype.send);
    const invite = await makeInvite();
    const connect = await startConnect(invite);
    const credentialsBefore = await credentialItems();
    let failed: { status: number; body: unknown };
    try {
      const response = await fetch(connect.callback, {
        headers: { accept: "application/json", cookie: connect.cookie },
      });
      failed = { status: response.status, body: await response.text() };
    } finally {
      send.mockRestore();
    }
    expect(failed).toStrictEqual({ status: 500, body: "" });
    expect(refused).toStrictEqual(["VEHICLE#smartcar:sc-ev-1"]);
    // The tokens were stored: the invite is not given back, it names them, and a second start is refused.
    expect(await credentialItems()).toBe(credentialsBefore + 1);
    const stored = await invites.get(invite);
    expect(stored).toMatchObject({ usedAt: expect.any(String), credentialsRef: expect.stringMatching(/^smartcar-/) });
    expect(await tokens.get(stored?.credentialsRef ?? "")).toMatchObject({ version: 1 });
    expect(await refusedStart(`?invite=${invite}`)).toStrictEqual(USED);
  });
});
