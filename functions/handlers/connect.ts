import { randomBytes } from "node:crypto";
import middy from "@middy/core";
import httpErrorHandler from "@middy/http-error-handler";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import * as z from "zod";
import { createDocumentClient } from "#adapters/aws-clients.ts";
import { DynamoDbInviteStore } from "#adapters/dynamodb/invite-store.ts";
import { DynamoDbPollRegistry } from "#adapters/dynamodb/poll-registry.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import { smartcarFromEnv } from "#adapters/providers/smartcar.ts";
import {
  InviteExpiredError,
  InviteNotFoundError,
  InviteRefusedError,
  InviteUsedError,
  InviteVehicleLimitError,
} from "#core/invites/errors.ts";
import {
  type Invite,
  InviteKey,
  type InviteRecord,
  inviteKeyOf,
  isInviteId,
  usableInvite,
} from "#core/invites/invite.ts";
import { normalisedTimeZone, sameTimeZone, TimeZone, type Vehicle } from "#core/model/vehicle.ts";
import { ProviderAuthError } from "#core/providers/errors.ts";
import {
  SmartcarConnectDeniedError,
  SmartcarConnectError,
  SmartcarNoVehicleGrantedError,
  SmartcarVehicleAccessError,
} from "#providers/smartcar/errors.ts";
import { completeSmartcarConnect } from "#providers/smartcar/oauth.ts";
import { registerConnectedSmartcarVehicles } from "#providers/smartcar/register-connected.ts";
import { secretFromEnv } from "#shared/config.ts";
import { badRequest, forbidden, logHttpError, notFound } from "#shared/http-errors.ts";
import { jsonResponse } from "#shared/http-response.ts";
import { logger } from "#shared/logger.ts";
import { tableConfigFromEnv } from "#shared/runtime-config.ts";
import { cookieOf, setCookie, signValue, verifyValue } from "#shared/signed-cookie.ts";

/**
 * Smartcar Connect, by invitation: the operator makes a single-use invite (`npx dashlight connect invite`), so only
 * the car owners they chose can connect a car to this Dashlight. Configured with Smartcar (see
 * #adapters/providers/smartcar.ts) plus the secret DASHLIGHT_CONNECT_COOKIE_SECRET, which signs the session cookie;
 * without SMARTCAR_API_BASE_URL both routes answer 404.
 */
const config = tableConfigFromEnv();
const documentClient = createDocumentClient(config.endpoints);
const smartcar = await smartcarFromEnv(documentClient, config.tableName);
const cookieSecret = smartcar && (await secretFromEnv("DASHLIGHT_CONNECT_COOKIE_SECRET"));
const vehicles = new DynamoDbVehicleStore(documentClient, config.tableName);
const polls = new DynamoDbPollRegistry(documentClient, config.tableName);
const invites = new DynamoDbInviteStore(documentClient, config.tableName);

const COOKIE = "dashlight_smartcar_connect";
const COOKIE_PATH = "/connect/smartcar";
/** Long enough to log in at Smartcar and approve; short enough that a stolen cookie is soon worthless. */
const SESSION_SECONDS = 600;
/** Time zone of newly connected vehicles unless the invite or `?time_zone=` names one (as `dashlight vehicles add`). */
const DEFAULT_TIME_ZONE = "UTC";
/** The session cannot go on, but the invite is still usable (never claimed, or released). */
const START_AGAIN = "open your invite link again";
const INVITE_REQUIRED =
  "required: Connect is by invitation; open the invite link you were given (the operator makes one with `npx dashlight connect invite`)";
const NEW_INVITE = "ask the operator for a new invite link";

/** Secure unless the callback is plain HTTP on this machine (local development, where browsers would drop it). */
const secureCookie =
  smartcar === undefined ||
  !(
    smartcar.redirectUri.protocol === "http:" &&
    ["127.0.0.1", "localhost", "[::1]"].includes(smartcar.redirectUri.hostname)
  );

const StartQuery = z.object({
  invite: z.string({ error: INVITE_REQUIRED }).min(1, { error: INVITE_REQUIRED }),
  time_zone: TimeZone.optional(),
});
const Session = z.object({
  state: z.string().min(1),
  codeVerifier: z.string().min(1),
  timeZone: z.string(),
  /** inviteKeyOf the invite's id: the cookie is signed, not encrypted, so it never carries a usable invite. */
  inviteKey: InviteKey,
});

/**
 * GET /connect/smartcar?invite=<id>[&time_zone=Europe/Berlin]: checks that the invite exists (an id not shaped like
 * one is refused unread), is unused and has not expired (403 otherwise, saying which), then redirects the owner to
 * Smartcar Connect (with single_select when the invite is for one vehicle); the OAuth state, PKCE verifier, the
 * invite's key (the SHA-256 of its id, never the id) and time zone (the invite's, else `?time_zone=`, else UTC) wait
 * in a signed, HttpOnly, SameSite=Lax cookie for ten minutes. Starting does not use the invite up.
 * GET /connect/smartcar/callback: checks the cookie and the state, claims the invite (one conditional write: of two
 * browsers racing on one invite, the second is refused here, before its code is exchanged), exchanges the code,
 * lists the vehicles granted (400 when none, 403 when more than the invite allows) and reads their names, stores the
 * tokens (sealed) under a new credentials reference, and registers, with the invite's time zone and tags, and
 * schedules polling of every vehicle the owner granted. When anything fails after the claim and before the tokens are
 * stored, the claim is released, so the owner can open the same link again; once they are stored, the invite stays
 * used (a failure registering the vehicles answers 500). A 403 at the callback clears the session cookie.
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
    const invite = await checkedInvite(query.data.invite, now);
    // Invites made before time zones were normalised may hold a name as typed (`europe/berlin`); one zone may have
    // two names (`Europe/Kyiv`, `Europe/Kiev`): compared by meaning, not spelling.
    const inviteZone = invite.timeZone === undefined ? undefined : normalisedTimeZone(invite.timeZone);
    if (
      inviteZone !== undefined &&
      query.data.time_zone !== undefined &&
      !sameTimeZone(query.data.time_zone, inviteZone)
    ) {
      throw badRequest("invalid query", [
        { path: "query.time_zone", message: `differs from the invite's time zone ${inviteZone}: leave it out` },
      ]);
    }
    const timeZone = inviteZone ?? query.data.time_zone ?? DEFAULT_TIME_ZONE;
    const { url, session } = await smartcar.oauth.startConnect({ singleSelect: invite.vehicles === 1 });
    const value = signValue(
      { ...session, timeZone, inviteKey: inviteKeyOf(invite.id) },
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
  const inviteKey = session.data.inviteKey;
  let connected: Awaited<ReturnType<typeof completeSmartcarConnect>>;
  let claimed: InviteRecord | undefined;
  try {
    connected = await completeSmartcarConnect({
      oauth: smartcar.oauth,
      api: smartcar.client,
      store: smartcar.store,
      callback: new URLSearchParams(request.rawQueryString),
      session: session.data,
      credentialsRef,
      now,
      beforeCodeExchange: async () => {
        claimed = await invites.claim(inviteKey, { at: now, credentialsRef });
      },
      checkGrant: (vehicleIds) => {
        const allowed = claimed?.vehicles ?? 1;
        if (vehicleIds.length > allowed) throw new InviteVehicleLimitError(allowed, vehicleIds.length);
      },
    });
    if (claimed === undefined) throw new Error("Connect completed without claiming its invite");
  } catch (error) {
    // Nothing is connected: the invite goes back to the owner (only this claim is undone).
    if (claimed !== undefined) await release(inviteKey, credentialsRef);
    throw callbackRefusal(error);
  }
  const registered = await registerConnectedSmartcarVehicles(
    { vehicles: connected.vehicles, credentialsRef, timeZone: session.data.timeZone, tags: claimed.tags, now },
    { vehicles, polls, getVehicle: (id) => vehicles.getVehicle(id) },
  );
  logger.info("smartcar connected", { credentialsRef, vehicleIds: registered.map((vehicle) => vehicle.id) });
  const clear = { ...CLEAR_SESSION, "cache-control": "no-store" };
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

/**
 * The invite, if it can be used now; else 403 saying whether it is unknown, used or expired, and nothing more. An id
 * not shaped like one is unknown without a read.
 */
const checkedInvite = async (id: string, now: Date): Promise<Invite> => {
  try {
    if (!isInviteId(id)) throw new InviteNotFoundError();
    return usableInvite(await invites.get(id), now);
  } catch (error) {
    if (error instanceof InviteRefusedError) throw inviteForbidden(error);
    throw error;
  }
};

/** Undoes this callback's claim; a failure to is logged (the invite stays used) and the owner's answer stands. */
const release = async (inviteKey: string, credentialsRef: string) => {
  try {
    if (!(await invites.release(inviteKey, credentialsRef))) {
      logger.warn("invite claim not released: no longer held by this Connect", { credentialsRef });
    }
  } catch (error) {
    logger.error("invite claim not released", { credentialsRef, error: error as Error });
  }
};

/** What the owner is told when the callback fails before anything was connected (the invite is usable again). */
const callbackRefusal = (error: unknown) => {
  if (error instanceof InviteRefusedError) return inviteForbidden(error, CLEAR_SESSION);
  if (error instanceof SmartcarConnectDeniedError) {
    return badRequest(
      `Smartcar Connect did not grant access (${error.error}): nothing was connected`,
      undefined,
      error,
    );
  }
  if (error instanceof SmartcarNoVehicleGrantedError) {
    return badRequest(
      `Smartcar granted access to no vehicle: nothing was connected; ${START_AGAIN} and select a vehicle`,
      undefined,
      error,
    );
  }
  if (error instanceof SmartcarVehicleAccessError) {
    return badRequest(
      `Smartcar refused access to the vehicles after authorizing: nothing was connected; ${START_AGAIN}`,
      undefined,
      error,
    );
  }
  if (error instanceof SmartcarConnectError) {
    return badRequest(
      `the callback does not belong to this Connect session (state mismatch or no code); ${START_AGAIN}`,
      undefined,
      error,
    );
  }
  // Only the code exchange throws ProviderAuthError (listing and reading the vehicles: SmartcarVehicleAccessError).
  if (error instanceof ProviderAuthError) {
    return badRequest(`Smartcar refused the authorization code (used or expired); ${START_AGAIN}`, undefined, error);
  }
  return error;
};

const inviteForbidden = (error: InviteRefusedError, headers?: Record<string, string>) => {
  if (error instanceof InviteUsedError) return forbidden(`this invite was already used: ${NEW_INVITE}`, error, headers);
  if (error instanceof InviteExpiredError) return forbidden(`this invite has expired: ${NEW_INVITE}`, error, headers);
  if (error instanceof InviteVehicleLimitError) {
    const allowed = `${error.allowed} vehicle${error.allowed === 1 ? "" : "s"}`;
    return forbidden(
      `this invite connects at most ${allowed} and Smartcar granted ${error.granted}: nothing was connected; ` +
        `${START_AGAIN} and select at most ${allowed}`,
      error,
      headers,
    );
  }
  return forbidden(`unknown invite: check the link, or ${NEW_INVITE}`, error, headers);
};

const sessionCookie = (maxAgeSeconds: number) =>
  ({ maxAgeSeconds, path: COOKIE_PATH, secure: secureCookie, sameSite: "Lax" }) as const;
/** Ends the Connect session in the browser: after a success, or a refusal no retry of this session can pass. */
const CLEAR_SESSION = { "set-cookie": setCookie(COOKIE, "", sessionCookie(0)) };

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.codePointAt(0)};`);

const page = (registered: readonly Vehicle[]) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>Dashlight: Smartcar connected</title></head><body>
<h1>Connected ${registered.length} vehicle${registered.length === 1 ? "" : "s"}</h1>
<ul>${registered.map((vehicle) => `<li>${escapeHtml(vehicle.displayName)} (${escapeHtml(vehicle.id)})</li>`).join("")}</ul>
<p>Dashlight polls them from now on. You can close this page.</p>
</body></html>`;

export const handler = middy(connect).use(httpErrorHandler({ logger: logHttpError }));
