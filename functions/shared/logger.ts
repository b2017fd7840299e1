import { Logger } from "@aws-lambda-powertools/logger";

/**
 * The one structured logger. Vehicle location and VIN are personal data: log
 * ids, types and counts, never payloads, signals or snapshots.
 */
export const logger = new Logger({ serviceName: "dashlight" });
