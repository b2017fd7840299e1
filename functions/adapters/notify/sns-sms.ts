import {
  InvalidParameterException,
  InvalidParameterValueException,
  OptedOutException,
  PublishCommand,
  type PublishCommandInput,
  type SNSClient,
} from "@aws-sdk/client-sns";
import { PermanentDeliveryError, TransientDeliveryError } from "#core/dispatch/errors.ts";
import type { Envelope, Sent, SmsChannel } from "#core/dispatch/ports.ts";

/**
 * SMS through SNS Publish to a phone number. Chosen over AWS End User
 * Messaging SMS (SendTextMessage) because it is one call with no origination
 * identity, pool or configuration set to provision for a first deployment, and
 * the IAM grant is a single sns:Publish. SNS delivers through End User
 * Messaging anyway, so the account's SMS registrations, spend limit and
 * opt-out list apply the same; a deployment that needs per-message
 * origination numbers or delivery events can swap in an adapter for
 * SendTextMessage behind the same SmsChannel.
 */
export class SnsSmsChannel implements SmsChannel {
  readonly transport = "sns" as const;
  constructor(private readonly client: Pick<SNSClient, "send">) {}

  async sendSms(_envelope: Envelope, sms: { to: string; text: string }): Promise<Sent> {
    const input: PublishCommandInput = {
      PhoneNumber: sms.to,
      Message: sms.text,
      MessageAttributes: {
        // Transactional: alerts are time-critical and may be sent outside marketing hours.
        "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Transactional" },
      },
    };
    try {
      const result = await this.client.send(new PublishCommand(input));
      return { messageId: result.MessageId ?? "" };
    } catch (error) {
      throw translateSnsError(error);
    }
  }
}

/**
 * Bad numbers and opted-out recipients are permanent. Everything else
 * (throttling, 5xx, network, and our own misconfiguration such as a missing
 * grant) is transient: retried, then kept in the DLQ for a redrive after the fix.
 */
const translateSnsError = (error: unknown): Error => {
  if (
    error instanceof InvalidParameterException ||
    error instanceof InvalidParameterValueException ||
    error instanceof OptedOutException
  )
    return new PermanentDeliveryError(`SNS refused the SMS: ${(error as Error).name}`, { cause: error });
  return new TransientDeliveryError(`SNS could not send the SMS: ${(error as Error).name}`, undefined, {
    cause: error,
  });
};
