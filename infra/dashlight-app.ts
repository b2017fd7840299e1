import { resolve } from "node:path";
import { type App, type Environment, Tags, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { compileRuleSourcesOrThrow } from "#core/rules/compiler.ts";
import { DEFAULT_RULES_DIR, REPO_ROOT } from "./bundling.ts";
import { readRuleSources } from "./rules-bundle.ts";
import { StatefulStack } from "./stateful-stack.ts";
import { type SmartcarSettings, StatelessStack } from "./stateless-stack.ts";

export const STACK_NAMES = { stateful: "DashlightStateful", stateless: "DashlightStateless" } as const;

/**
 * Dashlight's two stacks, linked by props, with the rules validated and the
 * cdk-nag AwsSolutions pack run at synth: a bad rule or an unacknowledged
 * finding fails the synth.
 *
 * Context: `dashlight:alarmEmail` (where DLQ alarms are emailed),
 * `dashlight:sesIdentity` (the verified SES address or domain rule emails come from),
 * `dashlight:smartcar` ({ clientId, redirectUri, apiBaseUrl? }: Smartcar Connect and polling),
 * `dashlight:rulesDir` (the rule files to ship, default rules/).
 */
export const buildDashlightApp = (app: App) => {
  // The rules that ship are compiled here first: a bad rule fails the synth with the same
  // file:line:column lines as `dashlight rules validate`, before anything is deployed.
  const rulesDir = resolve(
    REPO_ROOT,
    (app.node.tryGetContext("dashlight:rulesDir") as string | undefined) ?? DEFAULT_RULES_DIR,
  );
  compileRuleSourcesOrThrow(readRuleSources(rulesDir, REPO_ROOT));
  const env: Environment = {
    ...(process.env.CDK_DEFAULT_ACCOUNT === undefined ? {} : { account: process.env.CDK_DEFAULT_ACCOUNT }),
    ...(process.env.CDK_DEFAULT_REGION === undefined ? {} : { region: process.env.CDK_DEFAULT_REGION }),
  };
  const alarmEmail = app.node.tryGetContext("dashlight:alarmEmail") as string | undefined;
  const smartcar = app.node.tryGetContext("dashlight:smartcar") as SmartcarSettings | undefined;
  const stateful = new StatefulStack(app, STACK_NAMES.stateful, {
    env,
    description: "Dashlight: table, queues, dead-letter alarms, provider secrets",
    alarmEmail,
    smartcarConnect: smartcar !== undefined,
  });
  const stateless = new StatelessStack(app, STACK_NAMES.stateless, {
    env,
    sesIdentity: app.node.tryGetContext("dashlight:sesIdentity") as string | undefined,
    smartcar,
    description: "Dashlight: functions, HTTP API, schedules",
    stateful,
  });
  Tags.of(app).add("app", "dashlight");
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { stateful, stateless };
};
