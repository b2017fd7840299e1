import { describe, expect, it } from "vitest";
import { pathParametersOf } from "#handlers/routes.ts";

describe("pathParametersOf", () => {
  it("adds the provider the Automatic route implies, since API Gateway cannot", () => {
    expect(
      pathParametersOf({ routeKey: "POST /webhooks/automatic/{secret}", pathParameters: { secret: "s3cret" } }),
    ).toStrictEqual({ provider: "automatic", secret: "s3cret" });
  });

  it("passes other routes' parameters through unchanged", () => {
    expect(
      pathParametersOf({ routeKey: "POST /webhooks/{provider}", pathParameters: { provider: "smartcar" } }),
    ).toStrictEqual({ provider: "smartcar" });
    expect(pathParametersOf({ routeKey: "GET /vehicles" })).toStrictEqual({});
  });
});
