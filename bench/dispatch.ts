/**
 * `tsx bench/dispatch.ts` (BENCH_ACTIONS=1000 by default): dispatch throughput
 * with the outbox transport on the local engines, against the raw SQS floor
 * measured in the same run.
 *
 * Both phases use the local runtime's queue poller (Lambda's batch semantics,
 * batches of 10, the same concurrency) on the same queue:
 * - floor: a handler that does nothing, so each message costs one share of a
 *   ReceiveMessage and a DeleteMessageBatch;
 * - dispatch: the real consumer built by the handler's composition: parse,
 *   Powertools claim (conditional PutItem), outbox PutItem, claim completion
 *   (UpdateItem), then the same delete.
 * A third phase (floorWithThreeWrites) adds the three table writes a dispatch
 * makes as plain PutItems, to show how much of the gap is the table engine.
 * Sending the messages is not timed.
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse } from "aws-lambda";
import { createDispatcher } from "#adapters/dispatcher.ts";
import { TABLE_DEFINITION } from "#adapters/dynamodb/table.ts";
import { startEngines } from "#local/engines.ts";
import { type SqsHandler, startQueuePoller } from "#local/queue-poller.ts";
import { dispatchConfigFromEnv } from "#shared/dispatch-config.ts";
import { logger } from "#shared/logger.ts";
import { sampleActions } from "#test/support/dispatch-doubles.ts";

const ACTIONS = Number(process.env.BENCH_ACTIONS ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const REGION = "us-east-1";
const TABLE_NAME = "dashlight-bench";

const main = async () => {
  logger.setLogLevel("ERROR");
  process.env.AWS_REGION ??= REGION;
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const engines = await startEngines({ dataDir: undefined });
  const endpoints = { dynamodb: engines.dynamodbEndpoint, sqs: engines.sqsEndpoint };
  // The table and one standard queue, made here so the figure does not depend on the runtime's provisioning.
  const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION });
  await dynamodb.send(new CreateTableCommand({ TableName: TABLE_NAME, ...TABLE_DEFINITION }));
  dynamodb.destroy();
  const sqs = new SQSClient({ endpoint: endpoints.sqs, region: REGION });
  const created = await sqs.send(
    new CreateQueueCommand({ QueueName: "bench-actions", Attributes: { VisibilityTimeout: "60" } }),
  );
  const queueUrl = created.QueueUrl ?? "";
  const queueArn =
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))).Attributes
      ?.QueueArn ?? "";

  const enqueue = async (bodies: string[]) => {
    for (let start = 0; start < bodies.length; start += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: bodies.slice(start, start + 10).map((body, index) => ({ Id: String(index), MessageBody: body })),
        }),
      );
    }
  };

  /** Runs the handler under the poller until `count` records were acknowledged; returns seconds. */
  const drain = async (handler: SqsHandler, count: number): Promise<number> => {
    let done = 0;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const counting: SqsHandler = async (event, context) => {
      const response = (await handler(event, context)) as SQSBatchResponse | undefined;
      done += event.Records.length - (response?.batchItemFailures.length ?? 0);
      if (done >= count) finish();
      return response;
    };
    const started = performance.now();
    const poller = startQueuePoller({
      sqs,
      queueUrl,
      queueArn,
      functionName: "bench",
      handler: counting,
      batchSize: 10,
      concurrency: CONCURRENCY,
      region: REGION,
    });
    await finished;
    const seconds = (performance.now() - started) / 1000;
    await poller.stop();
    return seconds;
  };

  const actions = Array.from({ length: ACTIONS }, (_, index) =>
    JSON.stringify(
      sampleActions.sms({
        id: `bench/${index}/0`,
        to: [{ name: "Alex", address: "+15555550100" }],
        message: `Bench action ${index}`,
      } as never),
    ),
  );

  await enqueue(actions.map((_, index) => `{"floor":${index}}`));
  const floorSeconds = await drain(async () => ({ batchItemFailures: [] }), ACTIONS);

  // A second reference: the same queue work plus the three table writes a dispatch makes
  // (claim, outbox entry, claim completion) as plain PutItems, to show where the time goes.
  const writer = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION });
  await enqueue(actions.map((_, index) => `{"writes":${index}}`));
  const writesSeconds = await drain(async (event) => {
    await Promise.all(
      event.Records.flatMap((record) =>
        ["A", "B", "C"].map((sk) =>
          writer.send(
            new PutItemCommand({
              TableName: TABLE_NAME,
              Item: { pk: { S: `FLOOR#${record.messageId}` }, sk: { S: sk }, body: { S: record.body } },
            }),
          ),
        ),
      ),
    );
    return { batchItemFailures: [] };
  }, ACTIONS);
  writer.destroy();

  const config = await dispatchConfigFromEnv({
    DASHLIGHT_TABLE_NAME: TABLE_NAME,
    DASHLIGHT_DYNAMODB_ENDPOINT: endpoints.dynamodb,
    DASHLIGHT_MODE: "local",
    DASHLIGHT_WEBHOOK_SIGNING_SECRET: "bench",
  });
  const { consumer, outbox } = createDispatcher(config, new Map());
  await enqueue(actions);
  const dispatchSeconds = await drain(consumer, ACTIONS);
  const stored = (await outbox.list({ limit: ACTIONS + 10 })).length;

  const floorRate = ACTIONS / floorSeconds;
  const dispatchRate = ACTIONS / dispatchSeconds;
  console.log(
    JSON.stringify(
      {
        actions: ACTIONS,
        concurrency: CONCURRENCY,
        batchSize: 10,
        floor: { seconds: round(floorSeconds), messagesPerSecond: round(floorRate) },
        floorWithThreeWrites: { seconds: round(writesSeconds), messagesPerSecond: round(ACTIONS / writesSeconds) },
        dispatch: { seconds: round(dispatchSeconds), actionsPerSecond: round(dispatchRate), outboxEntries: stored },
        dispatchToFloorRatio: round(dispatchRate / floorRate),
        dispatchToThreeWritesRatio: round(dispatchRate / (ACTIONS / writesSeconds)),
      },
      null,
      2,
    ),
  );
  sqs.destroy();
  await engines.stop();
};

const round = (value: number) => Math.round(value * 100) / 100;

await main();
