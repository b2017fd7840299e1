import {
  BadRequestException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  NotFoundException,
  type SESv2Client,
  SendEmailCommand,
  type SendEmailCommandInput,
} from "@aws-sdk/client-sesv2";
import { PermanentDeliveryError, TransientDeliveryError } from "#core/dispatch/errors.ts";
import type { EmailChannel, EmailContent, Envelope, Sent } from "#core/dispatch/ports.ts";

/** Email through SES v2 SendEmail: one message per recipient, plain text and HTML. */
export class SesEmailChannel implements EmailChannel {
  readonly transport = "ses" as const;
  constructor(
    private readonly client: Pick<SESv2Client, "send">,
    private readonly options: { from: string; configurationSet?: string },
  ) {}

  async sendEmail(envelope: Envelope, email: EmailContent): Promise<Sent> {
    const input: SendEmailCommandInput = {
      FromEmailAddress: this.options.from,
      Destination: { ToAddresses: [email.to] },
      Content: {
        Simple: {
          Subject: { Data: email.subject, Charset: "UTF-8" },
          Body: { Text: { Data: email.text, Charset: "UTF-8" }, Html: { Data: email.html, Charset: "UTF-8" } },
          Headers: [{ Name: "X-Dashlight-Delivery", Value: envelope.deliveryId }],
        },
      },
      ...(this.options.configurationSet === undefined ? {} : { ConfigurationSetName: this.options.configurationSet }),
    };
    try {
      const result = await this.client.send(new SendEmailCommand(input));
      return { messageId: result.MessageId ?? "" };
    } catch (error) {
      throw translateSesError(error);
    }
  }
}

/**
 * A rejected message or address is permanent; throttling, 5xx, a paused or
 * suspended account and a missing grant are transient (fixable, then redriven).
 * An unverified sender domain is permanent only for this message's content, but
 * it fails every message alike, so it too is left to the DLQ: transient.
 */
const translateSesError = (error: unknown): Error => {
  if (error instanceof BadRequestException || error instanceof MessageRejected || error instanceof NotFoundException)
    return new PermanentDeliveryError(`SES refused the email: ${(error as Error).name}`, { cause: error });
  const hint = error instanceof MailFromDomainNotVerifiedException ? " (verify the sender domain)" : "";
  return new TransientDeliveryError(`SES could not send the email: ${(error as Error).name}${hint}`, undefined, {
    cause: error,
  });
};
