import middy from "@middy/core";
import httpErrorHandler from "@middy/http-error-handler";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { createDocumentClient } from "#adapters/aws-clients.ts";
import { DynamoDbCommandStore } from "#adapters/dynamodb/command-store.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import { DynamoDbOutbox } from "#adapters/notify/outbox.ts";
import { VehicleId } from "#core/model/vehicle.ts";
import { logHttpError, notFound } from "#shared/http-errors.ts";
import { parseRequestPart, TimeListQuery } from "#shared/http-request.ts";
import { jsonResponse } from "#shared/http-response.ts";
import { tableConfigFromEnv } from "#shared/runtime-config.ts";

const config = tableConfigFromEnv();
const documentClient = createDocumentClient(config.endpoints);
const outbox = new DynamoDbOutbox(documentClient, config.tableName);
const commands = new DynamoDbCommandStore(documentClient, config.tableName);
const vehicles = new DynamoDbVehicleStore(documentClient, config.tableName);

/**
 * The dispatcher's reads: GET /outbox?since=&limit= (what the local outbox
 * kept instead of sending, newest first) and GET /vehicles/{id}/commands?since=&limit=
 * (the vehicle's command audit trail, newest first).
 */
const dispatchApi = async (request: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const route = request.routeKey;
  if (route === "GET /outbox") {
    const query = parseRequestPart(TimeListQuery, request.queryStringParameters ?? {}, "query");
    return jsonResponse(200, { entries: await outbox.list(query) });
  }
  if (route === "GET /vehicles/{id}/commands") {
    const vehicleId = parseRequestPart(VehicleId, request.pathParameters?.id, "path.id");
    const query = parseRequestPart(TimeListQuery, request.queryStringParameters ?? {}, "query");
    const vehicle = await vehicles.getVehicle(vehicleId);
    if (vehicle === undefined) throw notFound(`unknown vehicle: ${vehicleId}`);
    return jsonResponse(200, { commands: await commands.listCommands(vehicleId, query) });
  }
  throw notFound(`no route ${route}`);
};

export const handler = middy(dispatchApi).use(httpErrorHandler({ logger: logHttpError }));
