import { readFileSync } from "node:fs";
import { App, type CfnElement, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { REPO_ROOT } from "../../infra/bundling.ts";
import { buildDashlightApp } from "../../infra/dashlight-app.ts";
import type { DashlightFunction } from "../../infra/dashlight-function.ts";

/** The context of cdk.json (feature flags), so tests synthesize what `cdk synth` does. */
export const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(`${REPO_ROOT}/cdk.json`, "utf8")) as { context: Record<string, unknown> }
).context;

/** An app whose stacks skip bundling: property tests need no esbuild run. */
export const appWithoutBundling = (context: Record<string, unknown> = {}) =>
  new App({ context: { ...CDK_JSON_CONTEXT, "aws:cdk:bundling-stacks": [], ...context } });

export const synthDashlight = (context: Record<string, unknown> = {}) => {
  const app = appWithoutBundling(context);
  const stacks = buildDashlightApp(app);
  const functionNamed = (name: string): DashlightFunction => {
    const fn = stacks.stateless.functions[name];
    if (fn === undefined) throw new Error(`no function ${name}`);
    return fn;
  };
  return {
    app,
    stacks,
    functions: stacks.stateless.functions,
    functionNamed,
    stateful: Template.fromStack(stacks.stateful),
    stateless: Template.fromStack(stacks.stateless),
  };
};

type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; NotResource?: unknown };
type PolicyResource = { Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } } };

/** Every statement of every policy attached to the function's role. */
export const statementsOf = (template: Template, fn: DashlightFunction): Statement[] => {
  const roleId = Stack.of(fn).getLogicalId(fn.role.node.defaultChild as CfnElement);
  const policies = Object.values(template.findResources("AWS::IAM::Policy")) as PolicyResource[];
  return policies
    .filter((policy) => policy.Properties.Roles.some((role) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
};

/** The sorted, distinct IAM actions the function's role is allowed. */
export const actionsOf = (template: Template, fn: DashlightFunction): string[] => {
  const actions = statementsOf(template, fn)
    .filter((statement) => statement.Effect === "Allow")
    .flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
  return [...new Set(actions)].sort();
};

/** The function's CloudFormation properties. */
export const functionProperties = (template: Template, fn: DashlightFunction): Record<string, unknown> => {
  const id = Stack.of(fn).getLogicalId(fn.fn.node.defaultChild as CfnElement);
  const resource = template.toJSON().Resources[id] as { Properties: Record<string, unknown> } | undefined;
  if (resource === undefined) throw new Error(`no resource ${id}`);
  return resource.Properties;
};

/** The names of the function's environment variables. */
export const envKeysOf = (template: Template, fn: DashlightFunction): string[] => {
  const environment = functionProperties(template, fn).Environment as { Variables?: object } | undefined;
  return Object.keys(environment?.Variables ?? {}).sort();
};
