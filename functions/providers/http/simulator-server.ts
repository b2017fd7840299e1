import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";

/*
 * The plumbing every provider simulator shares: a real HTTP server on 127.0.0.1 (ephemeral port),
 * a request log with per-vehicle counts, and scripted faults (an error status N times, with an
 * optional Retry-After; a slow response N times). The provider's paths, auth and bodies live in
 * each provider's simulator.ts; this file knows nothing about any provider.
 */

/** A scripted fault, consumed one matching request at a time. */
export type SimFault =
  | {
      kind: "fail";
      status: number;
      /** How many matching requests fail (then the simulator answers normally again). */
      times: number;
      /** Sent as Retry-After (delay-seconds or an HTTP date). */
      retryAfter?: number | string;
      /** Only requests whose path contains this string. */
      match?: string;
    }
  | { kind: "delay"; ms: number; times: number; match?: string };

/** One request as the simulator saw it. */
export type SimRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The provider vehicle the request was about, when the path names one. */
  vehicleId: string | undefined;
  status: number;
  at: string;
};

export type SimContext = {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  /** Parsed JSON or form body; undefined when there was none. */
  body: unknown;
};

export type SimReply = {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
};

export type SimServerOptions = {
  handle: (context: SimContext) => SimReply | Promise<SimReply>;
  /** The provider's error body for a status (used for scripted faults). */
  errorReply: (status: number) => SimReply;
  vehicleIdOf: (path: string) => string | undefined;
  now: () => Date;
};

export type SimServer = {
  url: string;
  requests: readonly SimRequest[];
  /** Requests that named this provider vehicle. */
  countFor: (vehicleId: string) => number;
  inject: (fault: SimFault) => void;
  stop: () => Promise<void>;
};

export const startSimServer = async (options: SimServerOptions): Promise<SimServer> => {
  const requests: SimRequest[] = [];
  const faults: SimFault[] = [];

  const takeFault = (path: string, kind: SimFault["kind"]): SimFault | undefined => {
    const index = faults.findIndex((f) => f.kind === kind && f.times > 0 && (!f.match || path.includes(f.match)));
    const fault = faults[index];
    if (!fault) return undefined;
    fault.times -= 1;
    if (fault.times === 0) faults.splice(index, 1);
    return fault;
  };

  const respond = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    const raw = await readBody(req);
    const slow = takeFault(path, "delay");
    if (slow?.kind === "delay") await delay(slow.ms);
    const failure = takeFault(path, "fail");
    let reply: SimReply;
    if (failure?.kind === "fail") {
      const base = options.errorReply(failure.status);
      reply =
        failure.retryAfter === undefined
          ? base
          : { ...base, headers: { ...base.headers, "retry-after": String(failure.retryAfter) } };
    } else {
      try {
        reply = await options.handle({
          method: req.method ?? "GET",
          path,
          query: url.searchParams,
          headers: req.headers,
          body: parseBody(raw, req.headers["content-type"]),
        });
      } catch (error) {
        reply = { status: 500, text: `simulator error: ${(error as Error).message}` };
      }
    }
    requests.push({
      method: req.method ?? "GET",
      path,
      query: Object.fromEntries(url.searchParams),
      vehicleId: options.vehicleIdOf(path),
      status: reply.status,
      at: options.now().toISOString(),
    });
    const headers: Record<string, string> = { ...reply.headers };
    let payload = "";
    if (reply.json !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(reply.json);
    } else if (reply.text !== undefined) {
      headers["content-type"] ??= "text/plain";
      payload = reply.text;
    }
    if (!res.writable) return;
    res.writeHead(reply.status, headers).end(payload);
  };

  const server = createServer((req, res) => {
    respond(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    countFor: (vehicleId) => requests.filter((r) => r.vehicleId === vehicleId).length,
    inject: (fault) => {
      faults.push({ ...fault });
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
};

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

const parseBody = (raw: string, contentType: string | undefined): unknown => {
  if (raw === "") return undefined;
  if (contentType?.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
};

/** The bearer token of a request, if it sent one. */
export const bearerOf = (headers: IncomingMessage["headers"]): string | undefined => {
  const match = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? "");
  return match?.[1];
};
