import { parseArgs } from "node:util";
import { DynamoDbInviteStore } from "#adapters/dynamodb/invite-store.ts";
import {
  DEFAULT_INVITE_LIFETIME_MS,
  DEFAULT_INVITE_VEHICLES,
  MAX_INVITE_LIFETIME_MS,
  MAX_INVITE_VEHICLES,
  MIN_INVITE_LIFETIME_MS,
  newInvite,
} from "#core/invites/invite.ts";
import { formatDuration, parseDuration } from "#core/rules/duration.ts";
import type { Target } from "./connection.ts";
import { tagsFlag, timeZoneFlag } from "./flags.ts";

type Output = { write(text: string): unknown };
type Io = { out: Output; err: Output };

export const CONNECT_USAGE = `usage: dashlight connect invite [--vehicles 1] [--time-zone Europe/Berlin] [--tags a,b] [--expires 7d] [--api-url <url>]
  --vehicles   how many of the owner's cars the invite connects (default 1: Smartcar Connect lets the owner select
               only one; at most ${MAX_INVITE_VEHICLES})
  --time-zone  IANA time zone of the vehicles connected through the invite, stored as given with its case
               fixed; not a UTC offset (default: the link's &time_zone=, else UTC)
  --tags       tags of those vehicles, comma-separated (each trimmed; letters, digits and - _ . : /)
  --expires    how long the invite can be used: 30m, 12h, 7d (default 7d, at most 30d)
  --api-url    base URL of the HTTP API for the link: the local runtime's by default; required for a deployment
               (DASHLIGHT_TABLE_NAME set), where it is the stack output ApiUrl
`;

/**
 * `dashlight connect invite`: makes a single-use Connect invite in the table the CLI acts on and prints its link,
 * `<api url>/connect/smartcar?invite=<id>`, for the operator to send to a car owner. Returns the exit code (2 for a
 * bad flag, naming it).
 */
export const connectCommand = async (
  args: readonly string[],
  target: () => Target,
  io: Io,
  now: () => Date = () => new Date(),
): Promise<number> => {
  const [command, ...rest] = args;
  if (command !== "invite") {
    io.err.write(CONNECT_USAGE);
    return 2;
  }
  let values: { vehicles?: string; "time-zone"?: string; tags?: string; expires?: string; "api-url"?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        vehicles: { type: "string" },
        "time-zone": { type: "string" },
        tags: { type: "string" },
        expires: { type: "string" },
        "api-url": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.err.write(`${(error as Error).message}\n${CONNECT_USAGE}`);
    return 2;
  }
  const vehicles = values.vehicles === undefined ? DEFAULT_INVITE_VEHICLES : vehicleCountOf(values.vehicles);
  if (vehicles === undefined) {
    io.err.write(
      `--vehicles: must be a whole number from 1 to ${MAX_INVITE_VEHICLES}, got ${JSON.stringify(values.vehicles)}\n`,
    );
    return 2;
  }
  const timeZone = values["time-zone"] === undefined ? { value: undefined } : timeZoneFlag(values["time-zone"]);
  if ("error" in timeZone) {
    io.err.write(timeZone.error);
    return 2;
  }
  const tags = tagsFlag(values.tags ?? "");
  if ("error" in tags) {
    io.err.write(tags.error);
    return 2;
  }
  const lifetimeMs = values.expires === undefined ? DEFAULT_INVITE_LIFETIME_MS : parseDuration(values.expires);
  if (lifetimeMs === undefined || lifetimeMs < MIN_INVITE_LIFETIME_MS || lifetimeMs > MAX_INVITE_LIFETIME_MS) {
    io.err.write(
      `--expires: must be a duration from 1m to 30d such as 30m, 12h or 7d, got ${JSON.stringify(values.expires)}\n`,
    );
    return 2;
  }
  const givenApiUrl = values["api-url"];
  if (givenApiUrl !== undefined && linkBaseOf(givenApiUrl) === undefined) {
    io.err.write(
      "--api-url: must be an https URL (http only to this machine: localhost, 127.0.0.1 or [::1]) without query, " +
        `fragment or credentials, got ${JSON.stringify(givenApiUrl)}\n`,
    );
    return 2;
  }
  const resolved = target();
  const base = linkBaseOf(givenApiUrl ?? resolved.apiUrl ?? "");
  if (base === undefined) {
    io.err.write(
      `--api-url is required for a deployment (${resolved.describe}): the stack output ApiUrl, e.g. --api-url https://abc123.execute-api.eu-west-1.amazonaws.com/\n`,
    );
    return 2;
  }
  const invite = newInvite({
    timeZone: timeZone.value,
    tags: tags.value,
    vehicles,
    lifetimeMs,
    now: now(),
  });
  await new DynamoDbInviteStore(resolved.documentClient, resolved.tableName).create(invite);
  io.out.write(
    `${base}/connect/smartcar?invite=${invite.id}\n` +
      `single use for ${invite.vehicles === 1 ? "1 vehicle" : `up to ${invite.vehicles} vehicles`}, expires ${invite.expiresAt} (in ${formatDuration(lifetimeMs)}); ` +
      `vehicles connected through it get time zone ${invite.timeZone ?? "UTC (unless the link adds &time_zone=)"}, ` +
      `tags ${invite.tags.length === 0 ? "none" : invite.tags.join(",")}; stored in ${resolved.describe}\n`,
  );
  return 0;
};

/** `--vehicles`: a whole number from 1 to MAX_INVITE_VEHICLES, else undefined. */
const vehicleCountOf = (text: string): number | undefined => {
  if (!/^[0-9]{1,3}$/.test(text)) return undefined;
  const count = Number(text);
  return count >= 1 && count <= MAX_INVITE_VEHICLES ? count : undefined;
};

/**
 * The API's base URL without a trailing slash (the stack's ApiUrl output ends in one), or undefined unless it is
 * https, or http to this machine (a link sent in clear would hand the invite to anyone on the way).
 */
const linkBaseOf = (text: string): string | undefined => {
  if (!URL.canParse(text)) return undefined;
  const url = new URL(text);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (!(url.protocol === "https:" || (url.protocol === "http:" && loopback))) return undefined;
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") return undefined;
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
};
