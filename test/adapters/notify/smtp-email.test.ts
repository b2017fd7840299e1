import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SmtpEmailChannel } from "#adapters/notify/smtp-email.ts";
import { PermanentDeliveryError, TransientDeliveryError } from "#core/dispatch/errors.ts";

type Received = { from: string; to: string[]; data: string; user: string | undefined };
const received: Received[] = [];
let server: SMTPServer;
let port: number;

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === "dashlight" && auth.password === "s3cret") return callback(null, { user: auth.username });
      return callback(new Error("Invalid username or password"));
    },
    onRcptTo(address, _session, callback) {
      if (address.address.endsWith("@nowhere.example")) {
        const error = Object.assign(new Error("No such user"), { responseCode: 550 });
        return callback(error);
      }
      if (address.address.endsWith("@busy.example")) {
        const error = Object.assign(new Error("Mailbox busy, try later"), { responseCode: 451 });
        return callback(error);
      }
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          data: Buffer.concat(chunks).toString("utf8"),
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const envelope = {
  deliveryId: "check-engine/ovms:car/1/fire/0/to/0",
  actionId: "check-engine/ovms:car/1/fire/0",
  ruleId: "check-engine",
  vehicleId: "ovms:car",
  episode: 1,
};
const email = (to: string) => ({
  to,
  subject: "Check engine light on Blue Leaf",
  text: "Trouble codes:\n- P0301: Cylinder 1 misfire detected",
  html: "<ul>\n<li>P0301: Cylinder 1 misfire detected</li>\n</ul>",
});

describe("the SMTP email channel", () => {
  it("delivers a multipart text + HTML message to a real SMTP server, authenticated", async () => {
    const channel = new SmtpEmailChannel(`smtp://dashlight:s3cret@127.0.0.1:${port}`, {
      from: "alerts@dashlight.example",
    });
    const sent = await channel.sendEmail(envelope, email("alex@example.com"));
    channel.close();
    expect(sent.messageId).toMatch(/^<.+@.+>$/);
    expect(received).toHaveLength(1);
    const message = received[0];
    expect([message?.from, message?.to, message?.user]).toStrictEqual([
      "alerts@dashlight.example",
      ["alex@example.com"],
      "dashlight",
    ]);
    expect(message?.data).toContain("Subject: Check engine light on Blue Leaf");
    expect(message?.data).toContain("X-Dashlight-Delivery: check-engine/ovms:car/1/fire/0/to/0");
    expect(message?.data).toContain("Content-Type: text/plain");
    expect(message?.data).toContain("Content-Type: text/html");
    expect(message?.data).toContain("- P0301: Cylinder 1 misfire detected");
    expect(message?.data).toContain(`Message-ID: ${sent.messageId}`);
  });

  it("treats a 5xx reply as permanent, a 4xx reply and a refused connection as transient", async () => {
    const channel = new SmtpEmailChannel(`smtp://dashlight:s3cret@127.0.0.1:${port}`, {
      from: "alerts@dashlight.example",
    });
    await expect(channel.sendEmail(envelope, email("ghost@nowhere.example"))).rejects.toStrictEqual(
      new PermanentDeliveryError("SMTP server refused the email (550)"),
    );
    await expect(channel.sendEmail(envelope, email("sam@busy.example"))).rejects.toBeInstanceOf(TransientDeliveryError);
    channel.close();
    const closed = new SmtpEmailChannel("smtp://127.0.0.1:1", { from: "alerts@dashlight.example" });
    await expect(closed.sendEmail(envelope, email("alex@example.com"))).rejects.toBeInstanceOf(TransientDeliveryError);
    closed.close();
  });
});
