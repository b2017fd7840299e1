import * as z from "zod";
import type { VehicleCommand } from "#core/model/commands.ts";
import type { Provider } from "#core/model/vehicle.ts";
import { ProviderAuthError, UnsupportedCommandError } from "#core/providers/errors.ts";
import type {
  CommandParams,
  CommandResult,
  PollSample,
  ProviderVehicleRef,
  VehicleCommandClient,
  VehicleDataClient,
} from "#core/providers/ports.ts";
import { fetchJson, type HttpOptions, type RequestMeter } from "../http/fetch-json.ts";
import { normalizeOvms } from "./normalize.ts";
import {
  OvmsCharge,
  OvmsHistoricalRecords,
  OvmsHistoricalSummary,
  OvmsLocation,
  OvmsStatus,
  OvmsTpms,
  OvmsVehicleConnect,
  OvmsVehicleList,
} from "./schema.ts";

/** An OVMS server account; `password` may be an API token created with POST /api/token. */
export type OvmsCredentials = { username: string; password: string };

export type OvmsClientOptions = {
  /** The OVMS server's HTTP API, e.g. https://api.openvehicles.com:6869 */
  baseUrl: string;
  credentials: (credentialsRef: string) => Promise<OvmsCredentials>;
  http: Omit<HttpOptions, "provider">;
  /**
   * Connect (GET /api/vehicle/<id>) before each poll. Connecting asks the module for its faster
   * "connected" update interval (and a full update if we are the first peer), which keeps the next
   * poll fresh; it costs one request. Default true.
   */
  connectBeforePoll?: boolean;
};

const NOT_IMPLEMENTED = new Error(
  "the OVMS server HTTP API lists lock, valet and charge control as not yet implemented (PUT/DELETE /api/lock, /api/charge)",
);

/**
 * OVMS server HTTP API: session login, connect, status/charge/location/TPMS and historical records.
 * Commands: none (see NOT_IMPLEMENTED); each throws UnsupportedCommandError rather than pretend.
 *
 * @example const { signals } = await new OvmsClient({ baseUrl, credentials, http }).poll(ref, new Date());
 */
export class OvmsClient implements VehicleDataClient, VehicleCommandClient {
  readonly provider: Provider = "ovms";
  readonly capabilities: ReadonlySet<VehicleCommand> = new Set<VehicleCommand>();
  readonly #options: OvmsClientOptions;
  readonly #http: HttpOptions;
  /** Session cookies by credentials ref; a session serves every vehicle of the account. */
  readonly #sessions = new Map<string, string>();

  constructor(options: OvmsClientOptions) {
    this.#options = options;
    this.#http = { ...options.http, provider: "ovms" };
  }

  async poll(vehicle: ProviderVehicleRef, now: Date): Promise<PollSample> {
    const meter: RequestMeter = { requests: 0 };
    const id = encodeURIComponent(vehicle.providerVehicleId);
    const ref = vehicle.credentialsRef;
    if (this.#options.connectBeforePoll ?? true) await this.#get(ref, `/api/vehicle/${id}`, OvmsVehicleConnect, meter);
    // Sequential on purpose: one session, and the OVMS server is often a small self-hosted box.
    const status = await this.#get(ref, `/api/status/${id}`, OvmsStatus, meter);
    const charge = await this.#get(ref, `/api/charge/${id}`, OvmsCharge, meter);
    const location = await this.#get(ref, `/api/location/${id}`, OvmsLocation, meter);
    const tpms = await this.#get(ref, `/api/tpms/${id}`, OvmsTpms, meter);
    // OVMS reports no trouble codes on this API: `dtcs` stays undefined (unknown, not "none").
    return { signals: normalizeOvms({ status, charge, location, tpms }, now), requestsUsed: meter.requests };
  }

  /** The account's vehicles and whether each car is connected to the server now. */
  async listVehicles(credentialsRef: string): Promise<OvmsVehicleList> {
    return this.#get(credentialsRef, "/api/vehicles", OvmsVehicleList);
  }

  /** Connects the session to the car (see `connectBeforePoll`); returns its connection info. */
  async connect(vehicle: ProviderVehicleRef): Promise<OvmsVehicleConnect> {
    return this.#get(
      vehicle.credentialsRef,
      `/api/vehicle/${encodeURIComponent(vehicle.providerVehicleId)}`,
      OvmsVehicleConnect,
    );
  }

  /** Historical record types stored for the car, optionally only those with records after `since`. */
  async historicalSummary(vehicle: ProviderVehicleRef, since?: Date): Promise<OvmsHistoricalSummary> {
    const query = since ? `?since=${encodeURIComponent(since.toISOString())}` : "";
    return this.#get(
      vehicle.credentialsRef,
      `/api/historical/${encodeURIComponent(vehicle.providerVehicleId)}${query}`,
      OvmsHistoricalSummary,
    );
  }

  /** Records of one type (e.g. "*-LOG-Notification"), ordered by time then record number. */
  async historicalRecords(
    vehicle: ProviderVehicleRef,
    recordType: string,
    since?: Date,
  ): Promise<OvmsHistoricalRecords> {
    const query = since ? `?since=${encodeURIComponent(since.toISOString())}` : "";
    const path = `/api/historical/${encodeURIComponent(vehicle.providerVehicleId)}/${encodeURIComponent(recordType)}${query}`;
    return this.#get(vehicle.credentialsRef, path, OvmsHistoricalRecords);
  }

  async send(_vehicle: ProviderVehicleRef, command: VehicleCommand, _params: CommandParams): Promise<CommandResult> {
    throw new UnsupportedCommandError("ovms", command, { cause: NOT_IMPLEMENTED });
  }

  /** Ends the account's session (optional: the server disconnects vehicles on expiry anyway). */
  async logout(credentialsRef: string): Promise<void> {
    const cookie = this.#sessions.get(credentialsRef);
    if (!cookie) return;
    this.#sessions.delete(credentialsRef);
    await fetchJson(
      { method: "DELETE", url: `${this.#options.baseUrl}/api/cookie`, headers: { cookie }, responseType: "text" },
      z.string(),
      this.#http,
    );
  }

  /** A GET in the account's session; a 401 on a cached session (expired) logs in once more. */
  async #get<S extends z.ZodType>(
    credentialsRef: string,
    path: string,
    schema: S,
    meter?: RequestMeter,
  ): Promise<z.output<S>> {
    const call = async (cookie: string) =>
      (
        await fetchJson(
          { url: `${this.#options.baseUrl}${path}`, headers: { cookie }, ...(meter ? { meter } : {}) },
          schema,
          this.#http,
        )
      ).body;
    const cached = this.#sessions.get(credentialsRef);
    if (cached) {
      try {
        return await call(cached);
      } catch (error) {
        if (!(error instanceof ProviderAuthError)) throw error;
        this.#sessions.delete(credentialsRef);
      }
    }
    return call(await this.#login(credentialsRef, meter));
  }

  async #login(credentialsRef: string, meter?: RequestMeter): Promise<string> {
    const { username, password } = await this.#options.credentials(credentialsRef);
    const url = new URL(`${this.#options.baseUrl}/api/cookie`);
    url.searchParams.set("username", username);
    url.searchParams.set("password", password);
    const { headers } = await fetchJson(
      { url, responseType: "text", ...(meter ? { meter } : {}) },
      z.string(),
      this.#http,
    );
    const cookie = headers
      .getSetCookie()
      .map((c) => c.split(";")[0]?.trim())
      .filter((c): c is string => !!c)
      .join("; ");
    if (cookie === "") throw new ProviderAuthError("ovms", "login answered without a session cookie");
    this.#sessions.set(credentialsRef, cookie);
    return cookie;
  }
}
