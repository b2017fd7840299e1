import middy from "@middy/core";
import httpErrorHandler from "@middy/http-error-handler";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import * as z from "zod";
import { createDocumentClient } from "#adapters/aws-clients.ts";
import { DynamoDbEventStore } from "#adapters/dynamodb/event-store.ts";
import { DynamoDbFiringStore } from "#adapters/dynamodb/firing-store.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import { VehicleId } from "#core/model/vehicle.ts";
import { logHttpError, notFound } from "#shared/http-errors.ts";
import { parseRequestPart, TimeListQuery } from "#shared/http-request.ts";
import { jsonResponse } from "#shared/http-response.ts";
import { tableConfigFromEnv } from "#shared/runtime-config.ts";

const config = tableConfigFromEnv();
const documentClient = createDocumentClient(config.endpoints);
const vehicles = new DynamoDbVehicleStore(documentClient, config.tableName);
const events = new DynamoDbEventStore(documentClient, config.tableName);
const firings = new DynamoDbFiringStore(documentClient, config.tableName);

const _ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  after: z.string().optional(),
});

/**
 * The read-only management API: GET /vehicles, GET /vehicles/{id} (registration
 * and snapshot), GET /vehicles/{id}/events?since=&limit= and GET /vehicles/{id}/firings?since=&limit=
 * (newest first), GET /firings/{id} (with its explanation).
 */
const managementApi = async (request: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const route = request.routeKey;
  if (route === "GET /firings/{id}") {
    const firingId = request.pathParameters?.id ?? "";
    const firing = await firings.getFiring(firingId);
    if (firing === undefined) throw notFound(`unknown firing: ${firingId}`);
    return jsonResponse(200, { firing });
  }
  if (route === "GET /vehicles") {
    const query = parseRequestPart(TimeListQuery, request.queryStringParameters ?? {}, "query");
    return jsonResponse(200, { vehicles: await vehicles.listVehicles(query) });
  }
  const vehicleId = parseRequestPart(VehicleId, request.pathParameters?.id, "path.id");
  if (route === "GET /vehicles/{id}") {
    const state = await vehicles.loadVehicleState(vehicleId);
    if (state.vehicle === undefined) throw notFound(`unknown vehicle: ${vehicleId}`);
    return jsonResponse(200, {
      vehicle: state.vehicle,
      snapshot: state.snapshot,
      ruleStates: [...state.ruleStates.values()],
    });
  }
  if (route === "GET /vehicles/{id}/events") {
    const query = parseRequestPart(TimeListQuery, request.queryStringParameters ?? {}, "query");
    const vehicle = await vehicles.getVehicle(vehicleId);
    if (vehicle === undefined) throw notFound(`unknown vehicle: ${vehicleId}`);
    return jsonResponse(200, { events: await events.listEvents(vehicleId, query) });
  }
  if (route === "GET /vehicles/{id}/firings") {
    const query = parseRequestPart(TimeListQuery, request.queryStringParameters ?? {}, "query");
    const vehicle = await vehicles.getVehicle(vehicleId);
    if (vehicle === undefined) throw notFound(`unknown vehicle: ${vehicleId}`);
    return jsonResponse(200, { firings: await firings.listFirings(vehicleId, query) });
  }
  throw notFound(`no route ${route}`);
};

export const handler = middy(managementApi).use(httpErrorHandler({ logger: logHttpError }));
