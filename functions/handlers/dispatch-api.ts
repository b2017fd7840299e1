import middy from "@middy/core";
import httpErrorHandler from "@middy/http-error-handler";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import * as z from "zod";
import { createDocumentClient } from "#adapters/aws-clients.ts";
import { DynamoDbCommandStore } from "#adapters/dynamodb/command-store.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import { DynamoDbOutbox } from "#adapters/notify/outbox.ts";
import { formatIssuePath } from "#core/ingest/errors.ts";
import { VehicleId } from "#core/model/vehicle.ts";
import { badRequest, logHttpError, notFound } from "#shared/http-errors.ts";
import { jsonResponse } from "#shared/http-response.ts";
import { tableConfigFromEnv } from "#shared/runtime-config.ts";

const config = tableConfigFromEnv();
const documentClient = createDocumentClient(config.endpoints);
const outbox = new DynamoDbOutbox(documentClient, config.tableName);
const commands = new DynamoDbCommandStore(documentClient, config.tableName);
const vehicles = new DynamoDbVehicleStore(documentClient, config.tableName);

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  since: z.iso.datetime().optional(),
});

/**
 * The dispatcher's reads: GET /outbox?since=&limit= (what the local outbox
 * kept instead of sending, newest first) and GET /vehicles/{id}/commands?since=&limit=
 * (the vehicle's command audit trail, newest first).
 */
const dispatchApi = async (request: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const route = request.routeKey;
  if (route === "GET /outbox") {
    const query = parse(ListQuery, request.queryStringParameters ?? {}, "query");
    return jsonResponse(200, { entries: await outbox.list(query) });
  }
  if (route === "GET /vehicles/{id}/commands") {
    const vehicleId = parse(VehicleId, request.pathParameters?.id, "path.id");
    const query = parse(ListQuery, request.queryStringParameters ?? {}, "query");
    const vehicle = await vehicles.getVehicle(vehicleId);
    if (vehicle === undefined) throw notFound(`unknown vehicle: ${vehicleId}`);
    return jsonResponse(200, { commands: await commands.listCommands(vehicleId, query) });
  }
  throw notFound(`no route ${route}`);
};

const parse = <T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> => {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badRequest(
    `invalid ${where}`,
    result.error.issues.map((issue) => ({
      path: issue.path.length === 0 ? where : `${where}.${formatIssuePath(issue.path)}`,
      message: issue.message,
    })),
  );
};

export const handler = middy(dispatchApi).use(httpErrorHandler({ logger: logHttpError }));
