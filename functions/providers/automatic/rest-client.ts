import type { z } from "zod";
import type { VehicleCommand } from "#core/model/commands.ts";
import type { SignalSamples } from "#core/model/signals.ts";
import type { Provider } from "#core/model/vehicle.ts";
import { UnsupportedCommandError } from "#core/providers/errors.ts";
import type {
  CommandParams,
  CommandResult,
  PollSample,
  ProviderVehicleRef,
  VehicleCommandClient,
  VehicleDataClient,
} from "#core/providers/ports.ts";
import { round3, toIsoUtc } from "#core/units/convert.ts";
import { ProviderResponseInvalidError } from "../http/errors.ts";
import { fetchJson, type HttpOptions, type RequestMeter } from "../http/fetch-json.ts";
import { AutomaticMilHistoryEntry, AutomaticRestTrip, AutomaticRestVehicle, automaticPage } from "./rest-schema.ts";

/** A user's OAuth access token (Automatic tokens last a year; refresh is the connect flow's job). */
export type AutomaticCredentials = { accessToken: string };

export type AutomaticRestClientOptions = {
  /** e.g. https://api.automatic.com */
  baseUrl: string;
  credentials: (credentialsRef: string) => Promise<AutomaticCredentials>;
  http: Omit<HttpOptions, "provider">;
  /** Results per page: the seed's maximum (250) by default, to spend the fewest requests. */
  pageSize?: number;
  /** Stops a runaway listing (a provider bug looping `next`) after this many pages. */
  maxPages?: number;
};

/** /trip/ filters; times are sent as epoch seconds, as the seed requires. */
export type AutomaticTripFilter = {
  vehicle?: string;
  startedAtGte?: Date;
  startedAtLte?: Date;
  endedAtGte?: Date;
  endedAtLte?: Date;
  tagsIn?: string;
};

/** /vehicle/ filters. */
export type AutomaticVehicleFilter = {
  vin?: string;
  createdAtGte?: Date;
  createdAtLte?: Date;
  updatedAtGte?: Date;
  updatedAtLte?: Date;
};

const NO_COMMANDS = new Error("Automatic is a read-only OBD adapter API: it has no vehicle commands");

/**
 * The Automatic REST API: vehicles, MIL history and trips, following pagination to the end.
 * Its `poll` reads the vehicle object (fuel level, battery voltage, active DTCs); Automatic has no commands.
 *
 * @example for (const trip of await automatic.listTrips("fleet", { vehicle: "C_9aa0" })) …
 */
export class AutomaticRestClient implements VehicleDataClient, VehicleCommandClient {
  readonly provider: Provider = "automatic";
  readonly capabilities: ReadonlySet<VehicleCommand> = new Set<VehicleCommand>();
  readonly #options: AutomaticRestClientOptions;
  readonly #http: HttpOptions;

  constructor(options: AutomaticRestClientOptions) {
    this.#options = options;
    this.#http = { ...options.http, provider: "automatic" };
  }

  async poll(vehicle: ProviderVehicleRef, _now: Date): Promise<PollSample> {
    const meter: RequestMeter = { requests: 0 };
    const v = await this.getVehicle(vehicle.credentialsRef, vehicle.providerVehicleId, meter);
    const dtcs = (v.active_dtcs ?? []).map((d) => ({
      code: d.code,
      ...(d.description == null ? {} : { description: d.description }),
      ...(d.created_at == null ? {} : { occurredAt: toIsoUtc(d.created_at) }),
    }));
    const signals: SignalSamples = {};
    // The vehicle object carries one time for its readings: when Automatic last updated it.
    if (v.updated_at != null) {
      const observedAt = toIsoUtc(v.updated_at);
      if (v.fuel_level_percent != null) {
        signals.fuel_pct = { value: Math.min(100, Math.max(0, round3(v.fuel_level_percent))), observedAt };
      }
      if (v.battery_voltage != null) signals.battery_12v_v = { value: round3(v.battery_voltage), observedAt };
      if (v.active_dtcs != null) {
        signals.dtcs = { value: dtcs, observedAt };
        signals.mil_on = { value: dtcs.length > 0, observedAt };
      }
    }
    return { signals, ...(v.active_dtcs == null ? {} : { dtcs }), requestsUsed: meter.requests };
  }

  async getVehicle(credentialsRef: string, vehicleId: string, meter?: RequestMeter): Promise<AutomaticRestVehicle> {
    return this.#get(
      credentialsRef,
      this.#url(`/vehicle/${encodeURIComponent(vehicleId)}/`),
      AutomaticRestVehicle,
      meter,
    );
  }

  async listVehicles(
    credentialsRef: string,
    filter: AutomaticVehicleFilter = {},
    meter?: RequestMeter,
  ): Promise<AutomaticRestVehicle[]> {
    const url = this.#url("/vehicle/", {
      vin: filter.vin,
      created_at__gte: seconds(filter.createdAtGte),
      created_at__lte: seconds(filter.createdAtLte),
      updated_at__gte: seconds(filter.updatedAtGte),
      updated_at__lte: seconds(filter.updatedAtLte),
    });
    return this.#all(credentialsRef, url, AutomaticRestVehicle, meter);
  }

  /** The vehicle's MIL history (every code on/off), all pages; the API offers no time filter. */
  async listMilHistory(
    credentialsRef: string,
    vehicleId: string,
    meter?: RequestMeter,
  ): Promise<AutomaticMilHistoryEntry[]> {
    return this.#all(
      credentialsRef,
      this.#url(`/vehicle/${encodeURIComponent(vehicleId)}/mil/`),
      AutomaticMilHistoryEntry,
      meter,
    );
  }

  async listTrips(
    credentialsRef: string,
    filter: AutomaticTripFilter = {},
    meter?: RequestMeter,
  ): Promise<AutomaticRestTrip[]> {
    const url = this.#url("/trip/", {
      vehicle: filter.vehicle,
      started_at__gte: seconds(filter.startedAtGte),
      started_at__lte: seconds(filter.startedAtLte),
      ended_at__gte: seconds(filter.endedAtGte),
      ended_at__lte: seconds(filter.endedAtLte),
      tags__in: filter.tagsIn,
    });
    return this.#all(credentialsRef, url, AutomaticRestTrip, meter);
  }

  async send(_vehicle: ProviderVehicleRef, command: VehicleCommand, _params: CommandParams): Promise<CommandResult> {
    throw new UnsupportedCommandError("automatic", command, { cause: NO_COMMANDS });
  }

  #url(path: string, query: Record<string, string | undefined> = {}): URL {
    const url = new URL(`${this.#options.baseUrl.replace(/\/$/, "")}${path}`);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
    return url;
  }

  /**
   * Every page of a list, following `_metadata.next`. The next URL must stay on the API's origin:
   * it receives the user's bearer token.
   */
  async #all<T extends z.ZodType>(
    credentialsRef: string,
    first: URL,
    item: T,
    meter?: RequestMeter,
  ): Promise<z.output<T>[]> {
    const page = automaticPage(item);
    const maxPages = this.#options.maxPages ?? 1_000;
    first.searchParams.set("limit", String(this.#options.pageSize ?? 250));
    const results: z.output<T>[] = [];
    let url: URL | undefined = first;
    for (let pages = 0; url; pages++) {
      if (pages === maxPages) {
        throw new ProviderResponseInvalidError("automatic", `${first.pathname}: more than ${maxPages} pages`);
      }
      const body: z.output<typeof page> = await this.#get(credentialsRef, url, page, meter);
      results.push(...body.results);
      url = body._metadata.next ? this.#sameOrigin(body._metadata.next, first) : undefined;
    }
    return results;
  }

  #sameOrigin(next: string, first: URL): URL {
    const url = new URL(next, first);
    if (url.origin !== first.origin) {
      throw new ProviderResponseInvalidError(
        "automatic",
        `${first.pathname}: next page on another origin (${url.origin})`,
      );
    }
    return url;
  }

  async #get<S extends z.ZodType>(
    credentialsRef: string,
    url: URL,
    schema: S,
    meter?: RequestMeter,
  ): Promise<z.output<S>> {
    const { accessToken } = await this.#options.credentials(credentialsRef);
    const request = { url, headers: { authorization: `Bearer ${accessToken}` }, ...(meter ? { meter } : {}) };
    return (await fetchJson(request, schema, this.#http)).body;
  }
}

const seconds = (date: Date | undefined): string | undefined =>
  date === undefined ? undefined : String(Math.floor(date.getTime() / 1000));
