import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Engines, startEngines } from "#local/engines.ts";
import { provision } from "#local/provision.ts";
import { RuntimeFileError, readRuntimeFile, writeRuntimeFile } from "#local/runtime-file.ts";

describe("runtime.json", () => {
  const dirs: string[] = [];
  let engines: Engines | undefined;
  afterEach(async () => {
    await engines?.stop();
    engines = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const newDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "dashlight-runtime-"));
    dirs.push(dir);
    return dir;
  };

  it("reads back what npm start writes, queue URLs of the local SQS engine included", async () => {
    // As the local runtime does: the engines accept any credentials, the SDK wants some.
    process.env.AWS_REGION ??= "us-east-1";
    process.env.AWS_ACCESS_KEY_ID ??= "local";
    process.env.AWS_SECRET_ACCESS_KEY ??= "local";
    engines = await startEngines({ dataDir: undefined });
    const endpoints = { dynamodb: engines.dynamodbEndpoint, sqs: engines.sqsEndpoint };
    const settings = { visibilityTimeoutSeconds: 30, maxReceiveCount: 3 };
    const provisioned = await provision(
      endpoints,
      {
        tableName: "dashlight",
        eventsQueueName: "events",
        actionsQueueName: "actions",
        pollJobsQueueName: "poll-jobs",
      },
      { events: settings, actions: settings, pollJobs: settings },
    );
    // fauxqs names queues http://sqs.<region>.127.0.0.1:<port>/…, which the WHATWG URL parser refuses.
    expect(() => new URL(provisioned.actionsQueue.url)).toThrow();
    const contents = {
      pid: process.pid,
      url: "http://127.0.0.1:3000",
      endpoints,
      tableName: provisioned.tableName,
      queues: { events: provisioned.eventsQueue, actions: provisioned.actionsQueue },
    };
    const dir = newDir();
    writeRuntimeFile(dir, contents);
    expect(readRuntimeFile(dir)).toStrictEqual({
      ...contents,
      queues: {
        events: { url: provisioned.eventsQueue.url, dlqUrl: provisioned.eventsQueue.dlqUrl },
        actions: { url: provisioned.actionsQueue.url, dlqUrl: provisioned.actionsQueue.dlqUrl },
      },
    });
  });

  it("names the file and the fields it cannot read, and what to do", () => {
    const dir = newDir();
    const path = join(dir, "runtime.json");
    writeFileSync(
      path,
      JSON.stringify({ pid: process.pid, url: "http://127.0.0.1:3000", endpoints: {}, tableName: "t", queues: {} }),
    );
    expect(() => readRuntimeFile(dir)).toThrow(
      new RuntimeFileError(
        `${path} is not a runtime file this dashlight can read (endpoints.dynamodb: Invalid input: expected string, ` +
          "received undefined; endpoints.sqs: Invalid input: expected string, received undefined): restart npm start",
      ),
    );
    writeFileSync(path, "{");
    expect(() => readRuntimeFile(dir)).toThrow(RuntimeFileError);
    expect(() => readRuntimeFile(dir)).toThrow(`${path} is not JSON (`);
  });

  it("is absent when the runtime that wrote it is gone, whatever the file holds", () => {
    const dir = newDir();
    // Above Linux's pid_max (2^22): no such process.
    writeFileSync(join(dir, "runtime.json"), JSON.stringify({ pid: 2 ** 30, written: "by another version" }));
    expect(readRuntimeFile(dir)).toBeUndefined();
  });

  it("is absent when no runtime.json was written", () => {
    expect(readRuntimeFile(newDir())).toBeUndefined();
  });
});
