import { App } from "aws-cdk-lib";
import { buildDashlightApp } from "./dashlight-app.ts";

// The CDK CLI runs this file (cdk.json) and synthesizes the app when it exits.
buildDashlightApp(new App());
