import nodemailer, { type Transporter } from "nodemailer";
import { PermanentDeliveryError, TransientDeliveryError } from "#core/dispatch/errors.ts";
import type { EmailChannel, EmailContent, Envelope, Sent } from "#core/dispatch/ports.ts";

/** Seconds each SMTP phase may take before the attempt counts as a (transient) timeout. */
const SMTP_TIMEOUT_MS = 10_000;

/** Email through any SMTP server (nodemailer), for people who are not on SES. */
export class SmtpEmailChannel implements EmailChannel {
  readonly transport = "smtp" as const;
  private readonly transporter: Transporter;

  /** `url`: `smtp://user:pass@host:587` (STARTTLS) or `smtps://…:465`; a secret, it carries credentials. */
  constructor(
    url: string,
    private readonly options: { from: string },
  ) {
    this.transporter = nodemailer.createTransport(url, {
      connectionTimeout: SMTP_TIMEOUT_MS,
      greetingTimeout: SMTP_TIMEOUT_MS,
      socketTimeout: SMTP_TIMEOUT_MS,
    } as never);
  }

  async sendEmail(envelope: Envelope, email: EmailContent): Promise<Sent> {
    try {
      const info = await this.transporter.sendMail({
        from: this.options.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        headers: { "X-Dashlight-Delivery": envelope.deliveryId },
      });
      return { messageId: String(info.messageId) };
    } catch (error) {
      throw translateSmtpError(error);
    }
  }

  close(): void {
    this.transporter.close();
  }
}

/**
 * SMTP's own rule: a 5xx reply is permanent (no such mailbox, rejected), a 4xx
 * reply is "try again later". Connection errors and timeouts are transient.
 */
const translateSmtpError = (error: unknown): Error => {
  const responseCode = (error as { responseCode?: unknown }).responseCode;
  if (typeof responseCode === "number" && responseCode >= 500 && responseCode < 600)
    return new PermanentDeliveryError(`SMTP server refused the email (${responseCode})`, { cause: error });
  return new TransientDeliveryError(
    `SMTP delivery failed${typeof responseCode === "number" ? ` (${responseCode})` : ""}: ${(error as Error).message}`,
    undefined,
    { cause: error },
  );
};
