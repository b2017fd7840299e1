import middy from "@middy/core";
import httpErrorHandler from "@middy/http-error-handler";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { createDocumentClient, createSqsClient } from "#adapters/aws-clients.ts";
import { DynamoDbDeliveryArchive } from "#adapters/dynamodb/delivery-archive.ts";
import { SqsEventQueue } from "#adapters/sqs/event-queue.ts";
import { PayloadInvalidError } from "#core/ingest/errors.ts";
import { ingestDelivery, type Normalizer } from "#core/ingest/ingest-delivery.ts";
import { pathParametersOf } from "#handlers/routes.ts";
import { normalizeAutomaticEvent } from "#providers/automatic/normalize-webhook.ts";
import {
  answerSmartcarChallenge,
  isSmartcarVerifyChallenge,
  normalizeSmartcarWebhook,
  verifySmartcarSignature,
} from "#providers/smartcar/normalize-webhook.ts";
import { badRequest, logHttpError, notFound, payloadTooLarge, unauthorized } from "#shared/http-errors.ts";
import { jsonResponse } from "#shared/http-response.ts";
import { logger } from "#shared/logger.ts";
import { ingestConfigFromEnv } from "#shared/runtime-config.ts";
import { secretsMatch } from "#shared/secrets.ts";

/** Providers' deliveries are small; anything larger is a mistake or an attack. */
export const MAX_BODY_BYTES = 256 * 1024;
/** Smartcar challenges are random tokens; anything else is refused (see the VERIFY note below). */
const SAFE_CHALLENGE = /^[A-Za-z0-9._~-]{1,512}$/;

const config = await ingestConfigFromEnv();
const documentClient = createDocumentClient(config.endpoints);
const ports = {
  archive: new DynamoDbDeliveryArchive(documentClient, config.tableName, config.rawRetentionDays),
  queue: new SqsEventQueue(createSqsClient(config.endpoints), config.eventsQueueUrl),
};

/**
 * POST /webhooks/automatic/{secret} and POST /webhooks/{provider}: verifies the
 * caller, then hands the raw body to the ingest core. Answers 202 with the ids
 * of the accepted events.
 */
const ingest = async (request: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const path = pathParametersOf(request);
  const provider = path.provider;
  const rawBody = bodyOf(request);
  const receivedAt = new Date(request.requestContext.timeEpoch).toISOString();
  let normalize: Normalizer;
  switch (provider) {
    case "automatic":
      if (!secretsMatch(path.secret ?? "", config.automaticWebhookSecret)) {
        throw unauthorized("unknown webhook secret");
      }
      normalize = normalizeAutomaticEvent;
      break;
    case "smartcar": {
      // Smartcar's docs do not say VERIFY is signed, so it is answered unsigned; but only for a challenge
      // that cannot be a payload, or the answer would sign a forged delivery (an HMAC oracle).
      const payload = parseJsonOrNull(rawBody);
      if (isSmartcarVerifyChallenge(payload)) {
        if (!SAFE_CHALLENGE.test(payload.data.challenge)) {
          throw badRequest("invalid payload", [
            { path: "data.challenge", message: "must be 1 to 512 letters, digits, '-', '_', '.' or '~'" },
          ]);
        }
        return jsonResponse(200, answerSmartcarChallenge(payload.data.challenge, config.smartcarManagementToken));
      }
      if (!verifySmartcarSignature(rawBody, request.headers["sc-signature"], config.smartcarManagementToken)) {
        throw unauthorized("missing or invalid SC-Signature header");
      }
      normalize = normalizeSmartcarWebhook;
      break;
    }
    default:
      throw notFound(`unknown provider: ${provider}`);
  }
  try {
    const result = await ingestDelivery({ provider, rawBody, receivedAt, normalize }, ports);
    logger.info("delivery accepted", {
      provider,
      deliveryId: result.deliveryId,
      events: result.accepted.length,
      duplicate: result.duplicate,
      ignored: result.ignored.map((ignored) => ignored.type),
    });
    return jsonResponse(202, result);
  } catch (error) {
    if (error instanceof PayloadInvalidError) throw badRequest("invalid payload", error.issues, error);
    throw error;
  }
};

const bodyOf = (request: APIGatewayProxyEventV2): string => {
  const body = request.body ?? "";
  const bytes = request.isBase64Encoded ? Buffer.from(body, "base64") : Buffer.from(body, "utf8");
  if (bytes.byteLength > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);
  return bytes.toString("utf8");
};

const parseJsonOrNull = (rawBody: string): unknown => {
  try {
    return JSON.parse(rawBody);
  } catch {
    return null; // not a challenge; the ingest core reports the malformed JSON with its position
  }
};

export const handler = middy(ingest).use(httpErrorHandler({ logger: logHttpError }));
