import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { RecordedAwsCall } from "./aws-call-recorder.ts";

/** The account and region the synthesized templates are resolved in (any fixed pair will do offline). */
export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

/** A synthesized template as `Template.toJSON()` returns it. */
// biome-ignore lint/suspicious/noExplicitAny: the shape CDK's assertions return
type Template = { [key: string]: any };
type TemplateResource = { Type: string; Properties?: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Condition?: unknown };

/**
 * Turns CloudFormation intrinsics in a synthesized policy into the strings AWS would see: `Ref` and `Fn::GetAtt …
 * Arn` of the templates' own resources (physical names are their logical ids unless a name property is set), the
 * pseudo parameters, `Fn::Join`, `Fn::Sub` and `Fn::ImportValue` across the stacks' exports.
 */
export class TemplateResolver {
  private readonly exports = new Map<string, { template: Template; value: unknown }>();

  constructor(templates: readonly Template[]) {
    for (const template of templates) {
      for (const output of Object.values(
        (template.Outputs ?? {}) as Record<string, { Value: unknown; Export?: { Name: unknown } }>,
      )) {
        if (output.Export === undefined) continue;
        this.exports.set(String(this.resolve(output.Export.Name, template)), { template, value: output.Value });
      }
    }
  }

  resolve(value: unknown, template: Template): unknown {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
    if (Array.isArray(value)) return value.map((item) => this.resolve(item, template));
    if (value === null || typeof value !== "object") throw new Error(`cannot resolve ${JSON.stringify(value)}`);
    const entries = Object.entries(value);
    const [key, argument] = entries[0] ?? [];
    if (entries.length === 1 && key === "Ref") return this.ref(String(argument), template);
    if (entries.length === 1 && key === "Fn::GetAtt") {
      const [id, attribute] = argument as [string, string];
      return this.getAtt(id, attribute, template);
    }
    if (entries.length === 1 && key === "Fn::Join") {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.map((part) => String(this.resolve(part, template))).join(separator);
    }
    if (entries.length === 1 && key === "Fn::ImportValue") {
      const name = String(this.resolve(argument, template));
      const exported = this.exports.get(name);
      if (exported === undefined) throw new Error(`no stack exports ${name}`);
      return this.resolve(exported.value, exported.template);
    }
    if (entries.length === 1 && key === "Fn::Sub" && typeof argument === "string") {
      return argument.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const [id, attribute] = name.split(".");
        return String(attribute === undefined ? this.ref(name, template) : this.getAtt(id ?? "", attribute, template));
      });
    }
    // A condition block or a plain object: resolve its values.
    return Object.fromEntries(entries.map(([name, inner]) => [name, this.resolve(inner, template)]));
  }

  /** Which template defines this logical id (for references the caller resolves by name). */
  physicalName(id: string, template: Template): string {
    const resource = template.Resources[id] as TemplateResource | undefined;
    if (resource === undefined) throw new Error(`no resource ${id}`);
    const named = ["TableName", "QueueName", "TopicName", "Name", "FunctionName", "LogGroupName"]
      .map((property) => resource.Properties?.[property])
      .find((name) => name !== undefined);
    return named === undefined ? id : String(this.resolve(named, template));
  }

  private ref(name: string, template: Template): string {
    if (name === "AWS::Partition") return "aws";
    if (name === "AWS::Region") return REGION;
    if (name === "AWS::AccountId") return ACCOUNT;
    if (name === "AWS::URLSuffix") return "amazonaws.com";
    const resource = template.Resources[name] as TemplateResource | undefined;
    if (resource === undefined) throw new Error(`no resource ${name}`);
    const physical = this.physicalName(name, template);
    if (resource.Type === "AWS::SQS::Queue") return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}`;
    if (resource.Type === "AWS::DynamoDB::Table" || resource.Type === "AWS::DynamoDB::GlobalTable") return physical;
    return this.getAtt(name, "Arn", template);
  }

  private getAtt(id: string, attribute: string, template: Template): string {
    const resource = template.Resources[id] as TemplateResource | undefined;
    if (resource === undefined) throw new Error(`no resource ${id}`);
    if (attribute !== "Arn") throw new Error(`cannot resolve ${id}.${attribute}`);
    const name = this.physicalName(id, template);
    const arns: Record<string, string> = {
      "AWS::DynamoDB::Table": `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`,
      "AWS::DynamoDB::GlobalTable": `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`,
      "AWS::SQS::Queue": `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
      "AWS::SNS::Topic": `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`,
      "AWS::SecretsManager::Secret": `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`,
      "AWS::Lambda::Function": `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
      "AWS::IAM::Role": `arn:aws:iam::${ACCOUNT}:role/${name}`,
      "AWS::Logs::LogGroup": `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`,
    };
    const arn = arns[resource.Type];
    if (arn === undefined) throw new Error(`no ARN format for ${resource.Type} (${id})`);
    return arn;
  }
}

/** An AWS request as IAM evaluates it: the action, the resource ARN and the request's condition keys. */
export type IamRequest = { action: string; resource: string; context: Record<string, string | string[]> };

/** What the runtime's resources are called in the deployment (their ARNs as the templates resolve them). */
export type ResourceMap = { tables: Record<string, string>; queuesByUrl: Record<string, string> };

const DOCUMENT_COMMANDS: Record<string, string> = {
  Get: "GetItem",
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  Query: "Query",
  Scan: "Scan",
  BatchGet: "BatchGetItem",
  BatchWrite: "BatchWriteItem",
  TransactGet: "TransactGetItems",
  TransactWrite: "TransactWriteItems",
};

/**
 * The IAM requests one recorded SDK call makes. DynamoDB requests carry `dynamodb:LeadingKeys` (the partition key
 * values they touch), so grants scoped to item prefixes are checked too.
 */
export const iamRequestsOf = (call: RecordedAwsCall, resources: ResourceMap): IamRequest[] => {
  const input = call.input;
  if (call.client === "DynamoDBClient" || call.client === "DynamoDBDocumentClient") {
    const api = call.client === "DynamoDBDocumentClient" ? DOCUMENT_COMMANDS[call.command] : call.command;
    if (api === undefined) throw new Error(`no IAM action known for the document client's ${call.command}`);
    const tableArn = (name: unknown) => {
      const arn = resources.tables[String(name)];
      if (arn === undefined) throw new Error(`${call.functionName}: table ${String(name)} is not the deployment's`);
      return arn;
    };
    if (api === "BatchWriteItem" || api === "BatchGetItem") {
      return Object.entries(input.RequestItems as Record<string, unknown[] | { Keys: unknown[] }>).map(
        ([table, requests]) => ({
          action: `dynamodb:${api}`,
          resource: tableArn(table),
          context: { "dynamodb:LeadingKeys": batchPartitionKeys(requests) },
        }),
      );
    }
    const index = input.IndexName === undefined ? "" : `/index/${String(input.IndexName)}`;
    const leadingKeys = partitionKeysOf(input);
    return [
      {
        action: `dynamodb:${api}`,
        resource: `${tableArn(input.TableName)}${index}`,
        context: leadingKeys.length === 0 ? {} : { "dynamodb:LeadingKeys": leadingKeys },
      },
    ];
  }
  if (call.client === "SQSClient") {
    const arn = resources.queuesByUrl[String(input.QueueUrl)];
    if (arn === undefined)
      throw new Error(`${call.functionName}: queue ${String(input.QueueUrl)} is not the deployment's`);
    // SendMessageBatch is authorized as SendMessage, DeleteMessageBatch as DeleteMessage (SQS's documented rule).
    const action = call.command.replace(/Batch$/, "");
    return [{ action: `sqs:${action}`, resource: arn, context: {} }];
  }
  throw new Error(`${call.functionName}: no IAM mapping for ${call.client} ${call.command}; add one here`);
};

const plainValue = (value: unknown): string | undefined => {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object" && "S" in value) return String((value as { S: unknown }).S);
  return undefined;
};

const partitionKeysOf = (input: Record<string, unknown>): string[] => {
  const fromKey = plainValue((input.Key as Record<string, unknown> | undefined)?.pk);
  const fromItem = plainValue((input.Item as Record<string, unknown> | undefined)?.pk);
  const condition = String(input.KeyConditionExpression ?? "");
  const match = /^\s*(?:pk|gsi1pk)\s*=\s*(:\w+)/.exec(condition);
  const fromQuery =
    match?.[1] === undefined
      ? undefined
      : plainValue((input.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[match[1]]);
  return [fromKey, fromItem, fromQuery].filter((key): key is string => key !== undefined);
};

const batchPartitionKeys = (requests: unknown): string[] => {
  const list = Array.isArray(requests) ? requests : ((requests as { Keys: unknown[] }).Keys ?? []);
  return list.flatMap((request) => {
    const put = (request as { PutRequest?: { Item: Record<string, unknown> } }).PutRequest?.Item;
    const del = (request as { DeleteRequest?: { Key: Record<string, unknown> } }).DeleteRequest?.Key;
    const key = put ?? del ?? (request as Record<string, unknown>);
    const pk = plainValue(key.pk);
    return pk === undefined ? [] : [pk];
  });
};

/** Whether the function's identity policy allows the request, as IAM's policy evaluation decides. */
export const isAllowed = async (statements: readonly Statement[], request: IamRequest): Promise<boolean> => {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${ACCOUNT}:role/dashlight-function`,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: request.context,
      },
      identityPolicies: [{ name: "function", policy: { Version: "2012-10-17", Statement: statements } }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === "error") throw new Error(`the IAM simulator refused the request: ${result.errors.message}`);
  return result.overallResult === "Allowed";
};
