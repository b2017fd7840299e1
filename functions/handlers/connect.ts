import { randomBytes } from "node:crypto";
import middy from "@middy/core";
import httpErrorHandler from "@middy/http-error-handler";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import * as z from "zod";
import { createDocumentClient } from "#adapters/aws-clients.ts";
import { DynamoDbPollRegistry } from "#adapters/dynamodb/poll-registry.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import { smartcarFromEnv } from "#adapters/providers/smartcar.ts";
import { isTimeZone, type Vehicle } from "#core/model/vehicle.ts";
import { ProviderAuthError } from "#core/providers/errors.ts";
import { SmartcarConnectDeniedError, SmartcarConnectError } from "#providers/smartcar/errors.ts";
import { completeSmartcarConnect } from "#providers/smartcar/oauth.ts";
import { registerConnectedSmartcarVehicles } from "#providers/smartcar/register-connected.ts";
import { secretFromEnv } from "#shared/config.ts";
import { badRequest, logHttpError, notFound } from "#shared/http-errors.ts";
import { jsonResponse } from "#shared/http-response.ts";
import { logger } from "#shared/logger.ts";
import { tableConfigFromEnv } from "#shared/runtime-config.ts";
import { cookieOf, setCookie, signValue, verifyValue } from "#shared/signed-cookie.ts";

/**
 * Smartcar Connect. Configured with Smartcar (see #adapters/providers/smartcar.ts) plus the secret
 * DASHLIGHT_CONNECT_COOKIE_SECRET, which signs the session cookie; without SMARTCAR_API_BASE_URL both routes
 * answer 404.
 */
const config = tableConfigFromEnv();
const documentClient = createDocumentClient(config.endpoints);
const smartcar = await smartcarFromEnv(documentClient, config.tableName);
const cookieSecret = smartcar && (await secretFromEnv("DASHLIGHT_CONNECT_COOKIE_SECRET"));
const vehicles = new DynamoDbVehicleStore(documentClient, config.tableName);
const polls = new DynamoDbPollRegistry(documentClient, config.tableName);

const COOKIE = "dashlight_smartcar_connect";
const COOKIE_PATH = "/connect/smartcar";
/** Long enough to log in at Smartcar and approve; short enough that a stolen cookie is soon worthless. */
const SESSION_SECONDS = 600;
/** Time zone of newly connected vehicles unless `?time_zone=` names one (as `dashlight vehicles add`). */
const DEFAULT_TIME_ZONE = "UTC";
const START_AGAIN = "start again at GET /connect/smartcar";

/** Secure unless the callback is plain HTTP on this machine (local development, where browsers would drop it). */
const secureCookie =
  smartcar === undefined ||
  !(
    smartcar.redirectUri.protocol === "http:" &&
    ["127.0.0.1", "localhost", "[::1]"].includes(smartcar.redirectUri.hostname)
  );

const StartQuery = z.object({
  time_zone: z
    .string()
    .refine(isTimeZone, { message: "must be an IANA time zone such as Europe/Berlin" })
    .default(DEFAULT_TIME_ZONE),
});
const Session = z.object({ state: z.string().min(1), codeVerifier: z.string().min(1), timeZone: z.string() });

/**
 * GET /connect/smartcar[?time_zone=Europe/Berlin]: redirects the owner to Smartcar Connect; the OAuth state, PKCE
 * verifier and time zone wait in a signed, HttpOnly, SameSite=Lax cookie for ten minutes.
 * GET /connect/smartcar/callback: checks the cookie and the state, exchanges the code, stores the tokens (sealed)
 * under a new credentials reference, and registers and schedules polling of every vehicle the owner granted.
 * Answers a short HTML page, or JSON to `Accept: application/json`.
 */
const connect = async (request: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  if (smartcar === undefined || cookieSecret === undefined) throw notFound("Smartcar is not configured");
  const now = new Date();
  if (request.routeKey === "GET /connect/smartcar") {
    const query = StartQuery.safeParse(request.queryStringParameters ?? {});
    if (!query.success) {
      throw badRequest(
        "invalid query",
        query.error.issues.map((issue) => ({ path: `query.${issue.path.join(".")}`, message: issue.message })),
      );
    }
    const { url, session } = await smartcar.oauth.startConnect();
    const value = signValue(
      { ...session, timeZone: query.data.time_zone },
      cookieSecret,
      new Date(now.getTime() + SESSION_SECONDS * 1000),
    );
    return {
      statusCode: 302,
      headers: {
        location: url.toString(),
        "cache-control": "no-store",
        "set-cookie": setCookie(COOKIE, value, sessionCookie(SESSION_SECONDS)),
      },
    };
  }
  if (request.routeKey !== "GET /connect/smartcar/callback") throw notFound(`no route ${request.routeKey}`);

  const cookie = cookieOf(request, COOKIE);
  if (cookie === undefined) throw badRequest(`no Connect session: its cookie is missing or expired; ${START_AGAIN}`);
  const session = Session.safeParse(verifyValue(cookie, cookieSecret, now));
  if (!session.success) throw badRequest(`the Connect session cookie is invalid or expired; ${START_AGAIN}`);

  const credentialsRef = `smartcar-${randomBytes(12).toString("hex")}`;
  let connected: Awaited<ReturnType<typeof completeSmartcarConnect>>;
  try {
    connected = await completeSmartcarConnect({
      oauth: smartcar.oauth,
      api: smartcar.client,
      store: smartcar.store,
      callback: new URLSearchParams(request.rawQueryString),
      session: session.data,
      credentialsRef,
      now,
    });
  } catch (error) {
    if (error instanceof SmartcarConnectDeniedError) {
      throw badRequest(
        `Smartcar Connect did not grant access (${error.error}): nothing was connected`,
        undefined,
        error,
      );
    }
    if (error instanceof SmartcarConnectError) {
      throw badRequest(
        `the callback does not belong to this Connect session (state mismatch or no code); ${START_AGAIN}`,
        undefined,
        error,
      );
    }
    if (error instanceof ProviderAuthError) {
      throw badRequest(`Smartcar refused the authorization code (used or expired); ${START_AGAIN}`, undefined, error);
    }
    throw error;
  }
  const registered = await registerConnectedSmartcarVehicles(
    { vehicles: connected.vehicles, credentialsRef, timeZone: session.data.timeZone, now },
    { vehicles, polls, getVehicle: (id) => vehicles.getVehicle(id) },
  );
  logger.info("smartcar connected", { credentialsRef, vehicleIds: registered.map((vehicle) => vehicle.id) });
  const clear = { "set-cookie": setCookie(COOKIE, "", sessionCookie(0)), "cache-control": "no-store" };
  const body = {
    credentialsRef,
    vehicles: registered.map(({ id, displayName, timeZone }) => ({ id, displayName, timeZone })),
  };
  if ((request.headers.accept ?? "").includes("application/json")) {
    const response = jsonResponse(200, body);
    return { ...response, headers: { ...response.headers, ...clear } };
  }
  return { statusCode: 200, headers: { "content-type": "text/html; charset=utf-8", ...clear }, body: page(registered) };
};

const sessionCookie = (maxAgeSeconds: number) =>
  ({ maxAgeSeconds, path: COOKIE_PATH, secure: secureCookie, sameSite: "Lax" }) as const;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.codePointAt(0)};`);

const page = (registered: readonly Vehicle[]) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>Dashlight: Smartcar connected</title></head><body>
<h1>Connected ${registered.length} vehicle${registered.length === 1 ? "" : "s"}</h1>
<ul>${registered.map((vehicle) => `<li>${escapeHtml(vehicle.displayName)} (${escapeHtml(vehicle.id)})</li>`).join("")}</ul>
<p>Dashlight polls them from now on. You can close this page.</p>
</body></html>`;

export const handler = middy(connect).use(httpErrorHandler({ logger: logHttpError }));
