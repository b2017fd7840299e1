/**
 * The HTTP API's routes and the function behind each: one table for the CDK
 * stack and the local gateway, so both expose the same API.
 */
export const HTTP_ROUTES = [
  { routeKey: "POST /webhooks/automatic/{secret}", fn: "ingest", pathDefaults: { provider: "automatic" } },
  { routeKey: "POST /webhooks/{provider}", fn: "ingest" },
  // Public: the vehicle owner's browser goes through these (Smartcar Connect).
  { routeKey: "GET /connect/smartcar", fn: "connect" },
  { routeKey: "GET /connect/smartcar/callback", fn: "connect" },
  { routeKey: "GET /vehicles", fn: "management-api", management: true },
  { routeKey: "GET /vehicles/{id}", fn: "management-api", management: true },
  { routeKey: "GET /vehicles/{id}/events", fn: "management-api", management: true },
  { routeKey: "GET /vehicles/{id}/firings", fn: "management-api", management: true },
  { routeKey: "GET /firings/{id}", fn: "management-api", management: true },
  { routeKey: "GET /vehicles/{id}/commands", fn: "dispatch-api", management: true },
  { routeKey: "GET /outbox", fn: "dispatch-api", management: true },
] as const satisfies readonly HttpRoute[];

export type HttpRoute = {
  routeKey: string;
  fn: string;
  /**
   * Path parameters the route implies. API Gateway cannot add path parameters, so
   * the handler applies these from the routeKey it receives (pathParametersOf).
   */
  pathDefaults?: Record<string, string>;
  /** Read-only management routes: behind IAM auth in AWS, not public. */
  management?: boolean;
};

export type HttpFunctionName = (typeof HTTP_ROUTES)[number]["fn"];

/** The request's path parameters plus those its route implies. */
export const pathParametersOf = (request: {
  routeKey: string;
  pathParameters?: Record<string, string | undefined>;
}): Record<string, string | undefined> => ({
  ...(HTTP_ROUTES as readonly HttpRoute[]).find((route) => route.routeKey === request.routeKey)?.pathDefaults,
  ...request.pathParameters,
});
