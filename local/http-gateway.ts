import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { HttpRoute } from "#handlers/routes.ts";
import { logger } from "#shared/logger.ts";
import { lambdaContext } from "./lambda-context.ts";

export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2 | undefined>;

/** API Gateway's own payload limit; the handlers enforce their smaller ones. */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
const TEXT_CONTENT = /^(text\/|application\/(json|x-www-form-urlencoded|xml))/;

type CompiledRoute = { route: HttpRoute; method: string; pattern: RegExp; params: string[]; path: string };

/**
 * A local stand-in for API Gateway HTTP API: matches a request to a route,
 * builds the payload-format-2.0 event and invokes the route's Lambda handler.
 * `extra` serves local-only paths (health, outbox) before the routes.
 */
export const startHttpGateway = async (options: {
  port: number;
  routes: readonly HttpRoute[];
  handlers: Record<string, HttpHandler>;
  extra?: (request: IncomingMessage, response: ServerResponse) => boolean;
}): Promise<{ server: Server; url: string }> => {
  const compiled = options.routes.map(compileRoute);
  const server = createServer((request, response) => {
    if (options.extra?.(request, response)) return;
    serve(request, response, compiled, options.handlers).catch((error: unknown) => {
      logger.error("local gateway failed", { error: error as Error });
      if (!response.headersSent) response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: "internal error" }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};

const compileRoute = (route: HttpRoute): CompiledRoute => {
  const [method = "", path = ""] = route.routeKey.split(" ");
  const params: string[] = [];
  const source = path
    .split("/")
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param?.[1]) return segment.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
      params.push(param[1]);
      return "([^/]+)";
    })
    .join("/");
  return { route, method, pattern: new RegExp(`^${source}$`), params, path };
};

const serve = async (
  request: IncomingMessage,
  response: ServerResponse,
  routes: readonly CompiledRoute[],
  handlers: Record<string, HttpHandler>,
): Promise<void> => {
  const url = new URL(request.url ?? "/", "http://local");
  const match = routes
    .map((route) => ({ route, found: route.method === request.method ? route.pattern.exec(url.pathname) : null }))
    .find(({ found }) => found !== null);
  if (!match?.found) return send(response, 404, { "content-type": "application/json" }, '{"message":"Not Found"}');
  const body = await readBody(request);
  if (body === undefined) {
    return send(response, 413, { "content-type": "application/json" }, '{"message":"Request Entity Too Large"}');
  }
  const { route, params } = match.route;
  // Like API Gateway: only the parameters in the path; a route's pathDefaults are the handler's business.
  const pathParameters: Record<string, string> = {};
  params.forEach((name, index) => {
    pathParameters[name] = decodeURIComponent(match.found?.[index + 1] ?? "");
  });
  const handler = handlers[route.fn];
  if (handler === undefined) throw new Error(`no local handler for ${route.fn}`);
  const result = await handler(toEvent(request, url, route.routeKey, pathParameters, body), lambdaContext(route.fn));
  const headers = Object.fromEntries(
    Object.entries(result?.headers ?? {}).map(([name, value]) => [name, String(value)]),
  );
  const payload = result?.isBase64Encoded ? Buffer.from(result.body ?? "", "base64") : (result?.body ?? "");
  send(response, result?.statusCode ?? 200, headers, payload);
};

const readBody = async (request: IncomingMessage): Promise<Buffer | undefined> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength;
    if (size > GATEWAY_MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
};

const toEvent = (
  request: IncomingMessage,
  url: URL,
  routeKey: string,
  pathParameters: Record<string, string>,
  body: Buffer,
): APIGatewayProxyEventV2 => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  const query = Object.fromEntries(url.searchParams.entries());
  const isText = TEXT_CONTENT.test(headers["content-type"] ?? "");
  const now = new Date();
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    ...(body.byteLength > 0 ? { body: isText ? body.toString("utf8") : body.toString("base64") } : {}),
    isBase64Encoded: body.byteLength > 0 && !isText,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "127.0.0.1",
      domainPrefix: "local",
      http: {
        method: request.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: crypto.randomUUID(),
      routeKey,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
};

const send = (response: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer) => {
  response.writeHead(status, headers);
  response.end(body);
};
