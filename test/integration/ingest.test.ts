import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { LocalRuntime } from "#local/runtime.ts";
import { sampleBody, samplePayload } from "#test/support/events.ts";
import {
  getJson,
  itemKeys,
  postJson,
  queueDepth,
  scanTable,
  startTestRuntime,
  TEST_AUTOMATIC_SECRET,
  TEST_SMARTCAR_TOKEN,
} from "#test/support/local-runtime.ts";

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(async () => {
  await runtime?.stop();
});

const automaticUrl = () => `${runtime.url}/webhooks/automatic/${TEST_AUTOMATIC_SECRET}`;
const vehicleUrl = (vehicleId: string) => `${runtime.url}/vehicles/${encodeURIComponent(vehicleId)}`;

/** A sample Automatic webhook for its own vehicle, so tests sharing the runtime do not meet. */
const webhookFor = (sample: string, vehicle: string, changes: Record<string, unknown> = {}) => {
  const payload = samplePayload("automatic", sample);
  (payload.vehicle as Record<string, unknown>).id = vehicle;
  return JSON.stringify({ ...payload, ...changes });
};

describe("POST /webhooks/automatic/{secret}", () => {
  it("stores a posted webhook once and shows it in the snapshot and the event list", async () => {
    const body = webhookFor("mil-on.webhook", "C_stored_once");
    const response = await postJson(automaticUrl(), body);
    expect(response.status).toBe(202);
    expect(response.body.duplicate).toBe(false);
    const [eventId] = response.body.accepted as string[];

    // The vehicle is registered before its snapshot is written (the snapshot is the consumer's last write).
    await vi.waitFor(
      async () =>
        expect(
          ((await getJson(vehicleUrl("automatic:C_stored_once"))).body.snapshot as { version: number })?.version,
        ).toBe(1),
      { timeout: 10_000 },
    );
    const vehicle = await getJson(vehicleUrl("automatic:C_stored_once"));
    expect(vehicle.body.vehicle).toStrictEqual({
      id: "automatic:C_stored_once",
      provider: "automatic",
      providerVehicleId: "C_stored_once",
      displayName: "My Speed Demon",
      tags: [],
      timeZone: "America/Los_Angeles",
      contacts: [],
      createdAt: expect.any(String),
    });
    const snapshot = vehicle.body.snapshot as Record<string, unknown>;
    expect(snapshot.signals).toStrictEqual({
      location: { value: { lat: 37.757076, lon: -122.44812, accuracy_m: 10 }, observedAt: "2013-11-03T03:14:10.201Z" },
      mil_on: { value: true, observedAt: "2013-11-03T03:14:10.201Z" },
      dtcs: {
        value: [
          {
            code: "P0442",
            description: "Small fuel vapor leak in EVAP system",
            occurredAt: "2013-11-03T03:14:10.301Z",
          },
        ],
        observedAt: "2013-11-03T03:14:10.201Z",
      },
    });
    expect(snapshot.version).toBe(1);
    const events = await getJson(`${vehicleUrl("automatic:C_stored_once")}/events`);
    expect((events.body.events as { id: string; type: string }[]).map((event) => [event.id, event.type])).toStrictEqual(
      [[eventId, "mil.on"]],
    );
  });

  it("stores the same webhook posted 5 times concurrently once", async () => {
    const body = webhookFor("ignition-on.webhook", "C_five_times");
    const responses = await Promise.all(Array.from({ length: 5 }, () => postJson(automaticUrl(), body)));
    expect(responses.map((response) => response.status)).toStrictEqual([202, 202, 202, 202, 202]);
    expect(new Set(responses.map((response) => (response.body.accepted as string[])[0])).size).toBe(1);
    expect(responses.filter((response) => response.body.duplicate === false)).toHaveLength(1);

    await vi.waitFor(async () => expect(await queueDepth(runtime, runtime.provisioned.eventsQueue.url)).toBe(0), {
      timeout: 10_000,
    });
    const keys = itemKeys(await scanTable(runtime)).filter(
      (key) => key.includes("C_five_times") || key.includes("ignition:on"),
    );
    expect(keys.filter((key) => key.includes("|EVENT#"))).toHaveLength(1);
    expect(keys.filter((key) => key.startsWith("DELIVERY#automatic:"))).toHaveLength(1);
    const snapshot = (await getJson(vehicleUrl("automatic:C_five_times"))).body.snapshot as { version: number };
    expect(snapshot.version).toBe(1);
  });

  it("keeps the newer location when an older sample arrives later", async () => {
    const newer = webhookFor("location-updated.websocket", "C_out_of_order", {
      id: "loc-newer",
      created_at: "2026-11-22T10:05:00.000Z",
      location: { lat: 52.52, lon: 13.405, accuracy_m: 5, created_at: "2026-11-22T10:05:00.000Z" },
    });
    const older = webhookFor("location-updated.websocket", "C_out_of_order", {
      id: "loc-older",
      created_at: "2026-11-22T10:00:00.000Z",
      location: { lat: 48.137, lon: 11.575, accuracy_m: 5, created_at: "2026-11-22T10:00:00.000Z" },
    });
    expect((await postJson(automaticUrl(), newer)).status).toBe(202);
    await vi.waitFor(
      async () =>
        expect((await getJson(`${vehicleUrl("automatic:C_out_of_order")}/events`)).body.events).toHaveLength(1),
      { timeout: 10_000 },
    );
    expect((await postJson(automaticUrl(), older)).status).toBe(202);
    // Ingest stores the event; the consumer applies it to the snapshot later: wait for that second write.
    const snapshot = await vi.waitFor(
      async () => {
        const body = (await getJson(vehicleUrl("automatic:C_out_of_order"))).body.snapshot as Record<string, unknown>;
        expect(body.version).toBe(2);
        return body;
      },
      { timeout: 10_000 },
    );
    expect(snapshot.signals).toStrictEqual({
      location: { value: { lat: 52.52, lon: 13.405, accuracy_m: 5 }, observedAt: "2026-11-22T10:05:00.000Z" },
    });
    // Two snapshot writes (awaited above): the second records the older event as applied without moving any signal.
    const events = (await getJson(`${vehicleUrl("automatic:C_out_of_order")}/events`)).body.events as {
      occurredAt: string;
    }[];
    expect(events.map((event) => event.occurredAt)).toStrictEqual([
      "2026-11-22T10:05:00.000Z",
      "2026-11-22T10:00:00.000Z",
    ]);
  });

  it("rejects a wrong secret with 401 and stores nothing", async () => {
    const before = await scanTable(runtime);
    const response = await postJson(
      `${runtime.url}/webhooks/automatic/not-the-secret`,
      webhookFor("mil-on.webhook", "C_wrong_secret"),
    );
    expect(response).toStrictEqual({ status: 401, body: { error: "unknown webhook secret" } });
    expect(itemKeys(await scanTable(runtime))).toStrictEqual(itemKeys(before));
  });

  it("answers malformed JSON with 400 naming the problem, and archives the raw body", async () => {
    const response = await postJson(automaticUrl(), '{"id": "broken", ');
    expect(response.status).toBe(400);
    expect(response.body).toStrictEqual({
      error: "invalid payload",
      issues: [
        {
          path: "$",
          message: "malformed JSON at position 17",
        },
      ],
    });
    const archived = (await scanTable(runtime)).filter((item) =>
      (item.pk as { S: string }).S.startsWith("DELIVERY#automatic:raw:"),
    );
    expect(
      archived.map((item) => [(item.status as { S: string }).S, (item.rawBody as { S: string }).S]),
    ).toContainEqual(["rejected", '{"id": "broken", ']);
  });

  it("answers a schema violation with 400 and the field path", async () => {
    const response = await postJson(
      automaticUrl(),
      webhookFor("notification-speeding.webhook", "C_bad_speed", { speed_mph: "fast" }),
    );
    expect(response).toStrictEqual({
      status: 400,
      body: {
        error: "invalid payload",
        issues: [{ path: "speed_mph", message: "Invalid input: expected number, received string" }],
      },
    });
  });

  it("accepts an unknown event type, archives it and reports it ignored", async () => {
    const response = await postJson(
      automaticUrl(),
      webhookFor("ignition-on.webhook", "C_unknown", { type: "region:changed" }),
    );
    expect(response).toStrictEqual({
      status: 202,
      body: {
        deliveryId: "automatic:f61ba3d5-a68e-43eb-a731-0db871b4d3a3:region:changed",
        accepted: [],
        duplicate: false,
        ignored: [{ type: "region:changed", reason: "unsupported Automatic event type" }],
      },
    });
    const keys = itemKeys(await scanTable(runtime));
    expect(keys).toContain("DELIVERY#automatic:f61ba3d5-a68e-43eb-a731-0db871b4d3a3:region:changed|DELIVERY");
  });

  it("answers 413 for a body over 256 KB and 404 for an unknown provider", async () => {
    const big = JSON.stringify({ padding: "x".repeat(256 * 1024) });
    expect(await postJson(automaticUrl(), big)).toStrictEqual({
      status: 413,
      body: { error: "request body is larger than 262144 bytes" },
    });
    expect(await postJson(`${runtime.url}/webhooks/tesla`, "{}")).toStrictEqual({
      status: 404,
      body: { error: "unknown provider: tesla" },
    });
  });
});

describe("POST /webhooks/smartcar", () => {
  const sign = (body: string) => createHmac("sha256", TEST_SMARTCAR_TOKEN).update(body).digest("hex");

  it("rejects a bad signature with 401 and stores nothing", async () => {
    const before = await scanTable(runtime);
    const body = sampleBody("smartcar", "vehicle-state");
    const response = await postJson(`${runtime.url}/webhooks/smartcar`, body, { "sc-signature": sign(`${body} `) });
    expect(response).toStrictEqual({ status: 401, body: { error: "missing or invalid SC-Signature header" } });
    const missing = await postJson(`${runtime.url}/webhooks/smartcar`, body);
    expect(missing.status).toBe(401);
    expect(itemKeys(await scanTable(runtime))).toStrictEqual(itemKeys(before));
  });

  it("answers the VERIFY challenge with the HMAC of the challenge, signed or not", async () => {
    const body = sampleBody("smartcar", "verify");
    const challenge = (samplePayload("smartcar", "verify").data as { challenge: string }).challenge;
    const expected = {
      status: 200,
      body: { challenge: createHmac("sha256", TEST_SMARTCAR_TOKEN).update(challenge).digest("hex") },
    };
    expect(await postJson(`${runtime.url}/webhooks/smartcar`, body, { "sc-signature": sign(body) })).toStrictEqual(
      expected,
    );
    expect(await postJson(`${runtime.url}/webhooks/smartcar`, body)).toStrictEqual(expected);
  });

  it("refuses to answer a challenge that could be a payload, so it cannot be used to forge signatures", async () => {
    const forged = sampleBody("smartcar", "vehicle-state");
    const payload = samplePayload("smartcar", "verify");
    (payload.data as { challenge: string }).challenge = forged;
    expect(await postJson(`${runtime.url}/webhooks/smartcar`, JSON.stringify(payload))).toStrictEqual({
      status: 400,
      body: {
        error: "invalid payload",
        issues: [{ path: "data.challenge", message: "must be 1 to 512 letters, digits, '-', '_', '.' or '~'" }],
      },
    });
  });

  it("accepts a signed VEHICLE_STATE delivery and stores its events", async () => {
    const body = sampleBody("smartcar", "vehicle-state");
    const response = await postJson(`${runtime.url}/webhooks/smartcar`, body, { "sc-signature": sign(body) });
    expect(response.status).toBe(202);
    const vehicleId = `smartcar:${(samplePayload("smartcar", "vehicle-state").data as { vehicle: { id: string } }).vehicle.id}`;
    await vi.waitFor(
      async () =>
        expect((await getJson(`${vehicleUrl(vehicleId)}/events`)).body.events).toHaveLength(
          (response.body.accepted as string[]).length,
        ),
      { timeout: 10_000 },
    );
  });
});

describe("deliveries the queue or the consumer would refuse later", () => {
  const vehicleOf = async (vehicleId: string) =>
    vi.waitFor(
      async () => {
        const body = (await getJson(vehicleUrl(vehicleId))).body;
        expect((body.snapshot as { version: number } | null)?.version).toBe(1);
        return body.vehicle as Record<string, unknown>;
      },
      { timeout: 10_000 },
    );

  it("accepts and processes text outside the Basic Multilingual Plane and the non-characters U+FFFE/U+FFFF", async () => {
    const name = "Zoë's 🚗 \uffff\ufffe 𝔇ashlight";
    const payload = samplePayload("automatic", "mil-on.webhook");
    (payload.vehicle as Record<string, unknown>).id = "C_astral";
    (payload.vehicle as Record<string, unknown>).display_name = name;
    const response = await postJson(automaticUrl(), JSON.stringify(payload));

    expect(response.status).toBe(202);
    expect((await vehicleOf("automatic:C_astral")).displayName).toBe(name);
    expect(await queueDepth(runtime, runtime.provisioned.eventsQueue.dlqUrl)).toBe(0);
  });

  it("refuses with 400 a vehicle id the canonical model refuses (over 128 characters, or not printable ASCII), storing no event", async () => {
    for (const [id, quoted] of [
      ["C".repeat(130), `automatic:${"C".repeat(54)}`],
      ["C_Zoë", "automatic:C_Zoë"],
    ] as const) {
      const response = await postJson(automaticUrl(), webhookFor("mil-on.webhook", id));
      expect(response.status).toBe(400);
      expect((response.body.issues as { path: string; message: string }[]).map((issue) => issue.path)).toStrictEqual([
        "events[0].vehicleId",
      ]);
      expect((response.body.issues as { message: string }[])[0]?.message).toMatch(
        new RegExp(`^the provider's vehicle id makes "${quoted}", which `),
      );
    }
    const events = (await scanTable(runtime)).filter((item) => (item.sk as { S: string }).S.startsWith("EVENT#"));
    expect(events.filter((item) => (item.pk as { S: string }).S.includes("C_Zo"))).toStrictEqual([]);
  });

  it("drops a time zone it does not know, listed under ignored, and registers the vehicle on UTC; its events are processed", async () => {
    const response = await postJson(
      automaticUrl(),
      webhookFor("mil-on.webhook", "C_mars", { time_zone: "Mars/Olympus_Mons" }),
    );
    expect(response.status).toBe(202);
    expect(response.body.ignored).toStrictEqual([
      {
        type: "time_zone",
        reason:
          '"Mars/Olympus_Mons" is not an IANA time zone; the vehicle keeps its registered zone (UTC when first seen)',
      },
    ]);
    expect((await vehicleOf("automatic:C_mars")).timeZone).toBe("UTC");
    expect(await queueDepth(runtime, runtime.provisioned.eventsQueue.dlqUrl)).toBe(0);
  });

  it("answers 400, not 500, for ids and types too long for a table key and for a signed VERIFY without a string challenge", async () => {
    const sign = (body: string) => createHmac("sha256", TEST_SMARTCAR_TOKEN).update(body).digest("hex");
    const issuesOf = (response: { body: Record<string, unknown> }) =>
      (response.body.issues as { path: string }[]).map((issue) => issue.path);

    const longId = await postJson(automaticUrl(), webhookFor("mil-on.webhook", "C_long", { id: "x".repeat(5_000) }));
    expect([longId.status, issuesOf(longId)]).toStrictEqual([400, ["id"]]);
    const longType = await postJson(
      automaticUrl(),
      webhookFor("mil-on.webhook", "C_long", { type: "t".repeat(3_000) }),
    );
    expect([longType.status, issuesOf(longType)]).toStrictEqual([400, ["type"]]);

    const verify = JSON.stringify({ eventId: "verify-number", eventType: "VERIFY", data: { challenge: 42 } });
    const badVerify = await postJson(`${runtime.url}/webhooks/smartcar`, verify, { "sc-signature": sign(verify) });
    expect([badVerify.status, issuesOf(badVerify)]).toStrictEqual([400, ["data.challenge"]]);
    const state = JSON.stringify({ ...samplePayload("smartcar", "vehicle-state"), eventId: "e".repeat(3_000) });
    const longEventId = await postJson(`${runtime.url}/webhooks/smartcar`, state, { "sc-signature": sign(state) });
    expect([longEventId.status, issuesOf(longEventId)]).toStrictEqual([400, ["eventId"]]);
  });

  it("refuses a delivery with thousands of issues with 400, keeping the first 32 KB of them and counting the rest", async () => {
    const body = webhookFor("mil-on.webhook", "C_many_issues", {
      dtcs: Array.from({ length: 15_000 }, () => ({ code: 5 })),
    });
    expect(Buffer.byteLength(body)).toBeLessThan(256 * 1024);
    const response = await postJson(automaticUrl(), body);
    const issues = response.body.issues as { path: string; message: string }[];
    expect(response.status).toBe(400);
    expect(issues[0]?.path).toBe("dtcs[0].code");
    expect(issues.at(-1)).toStrictEqual({ path: "$", message: `and ${15_000 - (issues.length - 1)} more issues` });
    expect(issues.length).toBeGreaterThan(100);
  });
});
