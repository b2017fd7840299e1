import { MessageRejected, SESv2Client, TooManyRequestsException } from "@aws-sdk/client-sesv2";
import { InvalidParameterException, SNSClient, ThrottledException } from "@aws-sdk/client-sns";
import { describe, expect, it } from "vitest";
import { SesEmailChannel } from "#adapters/notify/ses-email.ts";
import { SnsSmsChannel } from "#adapters/notify/sns-sms.ts";
import { PermanentDeliveryError, TransientDeliveryError } from "#core/dispatch/errors.ts";

const envelope = {
  deliveryId: "check-engine/smartcar:veh_1/1/fire/0/to/0",
  actionId: "check-engine/smartcar:veh_1/1/fire/0",
  ruleId: "check-engine",
  vehicleId: "smartcar:veh_1",
  episode: 1,
};

/**
 * A real SDK client whose request never leaves the process: a middleware at
 * the initialize step records the command input and answers (or throws) itself.
 */
const capturingClient = <C extends SNSClient | SESv2Client>(client: C, answer: () => Record<string, unknown>) => {
  const inputs: unknown[] = [];
  client.middlewareStack.add(
    () => async (args) => {
      inputs.push(args.input);
      return { output: { $metadata: {}, ...answer() }, response: {} } as never;
    },
    { step: "initialize", name: "capture" },
  );
  return { client, inputs };
};

const credentials = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };

describe("the SNS SMS channel", () => {
  it("publishes the message to the phone number as a transactional SMS", async () => {
    const { client, inputs } = capturingClient(new SNSClient(credentials), () => ({ MessageId: "sns-msg-1" }));
    const sent = await new SnsSmsChannel(client).sendSms(envelope, {
      to: "+15555550100",
      text: "Blue Leaf is at 18%.",
    });
    expect(sent).toStrictEqual({ messageId: "sns-msg-1" });
    expect(inputs).toStrictEqual([
      {
        PhoneNumber: "+15555550100",
        Message: "Blue Leaf is at 18%.",
        MessageAttributes: { "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Transactional" } },
      },
    ]);
    client.destroy();
  });

  it("translates an invalid number into a permanent error and throttling into a transient one", async () => {
    const invalid = capturingClient(new SNSClient(credentials), () => {
      throw new InvalidParameterException({ message: "Invalid parameter: PhoneNumber", $metadata: {} });
    });
    await expect(new SnsSmsChannel(invalid.client).sendSms(envelope, { to: "+1", text: "x" })).rejects.toStrictEqual(
      new PermanentDeliveryError("SNS refused the SMS: InvalidParameterException"),
    );
    const throttled = capturingClient(new SNSClient(credentials), () => {
      throw new ThrottledException({ message: "Rate exceeded", $metadata: {} });
    });
    await expect(
      new SnsSmsChannel(throttled.client).sendSms(envelope, { to: "+15555550100", text: "x" }),
    ).rejects.toBeInstanceOf(TransientDeliveryError);
  });
});

describe("the SES email channel", () => {
  const email = {
    to: "alex@example.com",
    subject: "Check engine light on Blue Leaf",
    text: "Trouble codes:\n- P0301: Cylinder 1 misfire detected",
    html: "<p>Trouble codes:</p>\n<ul>\n<li>P0301: Cylinder 1 misfire detected</li>\n</ul>",
  };

  it("sends one simple message with text and HTML bodies from the configured sender", async () => {
    const { client, inputs } = capturingClient(new SESv2Client(credentials), () => ({ MessageId: "ses-msg-1" }));
    const channel = new SesEmailChannel(client, {
      from: "Dashlight <alerts@dashlight.example>",
      configurationSet: "alerts",
    });
    expect(await channel.sendEmail(envelope, email)).toStrictEqual({ messageId: "ses-msg-1" });
    expect(inputs).toStrictEqual([
      {
        FromEmailAddress: "Dashlight <alerts@dashlight.example>",
        Destination: { ToAddresses: ["alex@example.com"] },
        Content: {
          Simple: {
            Subject: { Data: "Check engine light on Blue Leaf", Charset: "UTF-8" },
            Body: {
              Text: { Data: "Trouble codes:\n- P0301: Cylinder 1 misfire detected", Charset: "UTF-8" },
              Html: {
                Data: "<p>Trouble codes:</p>\n<ul>\n<li>P0301: Cylinder 1 misfire detected</li>\n</ul>",
                Charset: "UTF-8",
              },
            },
            Headers: [{ Name: "X-Dashlight-Delivery", Value: "check-engine/smartcar:veh_1/1/fire/0/to/0" }],
          },
        },
        ConfigurationSetName: "alerts",
      },
    ]);
    client.destroy();
  });

  it("treats a rejected message as permanent and SES throttling as transient", async () => {
    const rejected = capturingClient(new SESv2Client(credentials), () => {
      throw new MessageRejected({ message: "Email address is not verified.", $metadata: {} });
    });
    await expect(
      new SesEmailChannel(rejected.client, { from: "a@b.example" }).sendEmail(envelope, email),
    ).rejects.toStrictEqual(new PermanentDeliveryError("SES refused the email: MessageRejected"));
    const throttled = capturingClient(new SESv2Client(credentials), () => {
      throw new TooManyRequestsException({ message: "slow down", $metadata: {} });
    });
    await expect(
      new SesEmailChannel(throttled.client, { from: "a@b.example" }).sendEmail(envelope, email),
    ).rejects.toBeInstanceOf(TransientDeliveryError);
  });
});
