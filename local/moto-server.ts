import { type ChildProcess, spawn, spawnSync } from "node:child_process";

/** moto could not be started: Python or the moto package is missing, or the server did not come up. */
export class MotoUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MotoUnavailableError";
  }
}

export type MotoServer = {
  /** One endpoint for every service moto emulates (DynamoDB, SQS, SNS, SESv2, Secrets Manager, CloudFormation, …). */
  readonly endpoint: string;
  stop(): Promise<void>;
};

const PYTHON = "python3";

/** Whether `python3 -m moto.server` can run here (moto's server extras import). */
export const motoInstalled = (): boolean =>
  spawnSync(PYTHON, ["-c", "import moto.server, flask, werkzeug"], { stdio: "ignore" }).status === 0;

/**
 * Starts moto (the AWS emulator) on a free loopback port. moto rejects what AWS rejects where the embedded
 * engines do not (an empty string as a key value, for one), so the strict test tier and `npm start` against
 * external endpoints run on it.
 */
export const startMotoServer = async (options: { startTimeoutMs: number }): Promise<MotoServer> => {
  const child = spawn(PYTHON, ["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new MotoUnavailableError(`moto did not start within ${options.startTimeoutMs} ms: ${output.trim()}`));
    }, options.startTimeoutMs);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      resolve(match[1]);
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new MotoUnavailableError(`could not run ${PYTHON} -m moto.server`, { cause: error }));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new MotoUnavailableError(`moto exited with code ${code} before it served: ${output.trim()}`));
    });
  });
  // Werkzeug logs every request; reading the pipes keeps a full buffer from blocking the server.
  child.stdout?.resume();
  child.stderr?.resume();
  child.removeAllListeners("exit");
  return { endpoint, stop: () => stopChild(child) };
};

const stopChild = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
