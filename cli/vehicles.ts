import { parseArgs } from "node:util";
import { DynamoDbPollRegistry } from "#adapters/dynamodb/poll-registry.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import { Provider, Vehicle, VehicleId, vehicleIdOf } from "#core/model/vehicle.ts";
import { registerVehicle } from "#core/vehicles/register-vehicle.ts";
import type { Target } from "./connection.ts";
import { tagsFlag, timeZoneFlag } from "./flags.ts";

type Output = { write(text: string): unknown };
type Io = { out: Output; err: Output };

const USAGE = `usage:
  dashlight vehicles add <provider> <provider vehicle id> --name <name> --credentials <ref>
                         [--tags a,b] [--time-zone Europe/Berlin] [--no-poll]
      --tags       comma-separated, each trimmed; letters, digits and - _ . : /
      --time-zone  IANA time zone (default UTC), stored as given with its case fixed; not a UTC offset
  dashlight vehicles list
  dashlight vehicles remove <vehicle id>
`;

/** `dashlight vehicles …`: register, list and remove vehicles; returns the exit code. */
export const vehiclesCommand = async (args: readonly string[], target: () => Target, io: Io): Promise<number> => {
  const [command, ...rest] = args;
  switch (command) {
    case "add":
      return add(rest, target(), io);
    case "list":
      return list(target(), io);
    case "remove":
      return remove(rest, target(), io);
    default:
      io.err.write(USAGE);
      return 2;
  }
};

const add = async (args: readonly string[], target: Target, io: Io): Promise<number> => {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      name: { type: "string" },
      credentials: { type: "string" },
      tags: { type: "string", default: "" },
      "time-zone": { type: "string", default: "UTC" },
      "no-poll": { type: "boolean", default: false },
    },
  });
  const [providerText, providerVehicleId] = positionals;
  const provider = Provider.safeParse(providerText);
  if (
    !provider.success ||
    providerVehicleId === undefined ||
    values.name === undefined ||
    values.credentials === undefined
  ) {
    io.err.write(USAGE);
    return 2;
  }
  const timeZone = timeZoneFlag(values["time-zone"]);
  if ("error" in timeZone) {
    io.err.write(timeZone.error);
    return 2;
  }
  const tags = tagsFlag(values.tags);
  if ("error" in tags) {
    io.err.write(tags.error);
    return 2;
  }
  const vehicle = Vehicle.parse({
    id: vehicleIdOf(provider.data, providerVehicleId),
    provider: provider.data,
    providerVehicleId,
    displayName: values.name,
    tags: tags.value,
    timeZone: timeZone.value,
    contacts: [],
    credentialsRef: values.credentials,
    createdAt: new Date().toISOString(),
  });
  await registerVehicle(
    { ...vehicle, credentialsRef: values.credentials },
    {
      vehicles: new DynamoDbVehicleStore(target.documentClient, target.tableName),
      polls: new DynamoDbPollRegistry(target.documentClient, target.tableName),
    },
    { poll: !values["no-poll"], now: new Date() },
  );
  io.out.write(
    `registered ${vehicle.id} (${vehicle.displayName}) in ${target.describe}${values["no-poll"] ? "" : "; polling from now"}\n`,
  );
  return 0;
};

const list = async (target: Target, io: Io): Promise<number> => {
  const vehicles = await new DynamoDbVehicleStore(target.documentClient, target.tableName).listVehicles({ limit: 500 });
  const polls = new Map(
    (await new DynamoDbPollRegistry(target.documentClient, target.tableName).list()).map((poll) => [
      poll.vehicleId,
      poll,
    ]),
  );
  for (const vehicle of vehicles) {
    const poll = polls.get(vehicle.id);
    const polling =
      poll === undefined
        ? "not polled"
        : poll.needsReauth
          ? "needs re-authorization"
          : `next poll ${poll.state.nextPollAt}${poll.staleSince ? `, stale since ${poll.staleSince}` : ""}`;
    io.out.write(
      `${vehicle.id}\t${vehicle.displayName}\t[${vehicle.tags.join(",")}]\t${vehicle.timeZone}\t${polling}\n`,
    );
  }
  return 0;
};

const remove = async (args: readonly string[], target: Target, io: Io): Promise<number> => {
  const id = VehicleId.safeParse(args[0]);
  if (!id.success) {
    io.err.write(USAGE);
    return 2;
  }
  await new DynamoDbPollRegistry(target.documentClient, target.tableName).remove(id.data);
  await new DynamoDbVehicleStore(target.documentClient, target.tableName).removeVehicle(id.data);
  io.out.write(`removed ${id.data} (its events and firings are kept)\n`);
  return 0;
};
