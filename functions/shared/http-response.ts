import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";

/** A JSON response for API Gateway HTTP API (payload format 2.0). */
export const jsonResponse = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
