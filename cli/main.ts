import { RuntimeFileError } from "#local/runtime-file.ts";
import { ConfigError } from "#shared/config.ts";
import { actionsCommand } from "./actions.ts";
import { connectCommand } from "./connect.ts";
import { resolveTarget } from "./connection.ts";
import { rulesCommand } from "./rules.ts";
import { vehiclesCommand } from "./vehicles.ts";

const USAGE = `usage: dashlight <rules|vehicles|connect|actions> <command>

commands:
  rules validate [paths...]   validate rule files (default: rules/); one file:line:column line per problem
  rules schema                print the JSON Schema of rule files
  rules test [dir]            run fixtures in <dir>/fixtures against the rules in <dir> (default: rules)
  rules replay --from <iso> --to <iso> [--vehicle <id>] [--rules <dir>] [--data-dir <dir>]
                              backtest the rules on the events the local runtime stored (reads only)
  vehicles add|list|remove    register vehicles to poll (the running npm start, or DASHLIGHT_TABLE_NAME's deployment)
  connect invite [--vehicles 1] [--time-zone <tz>] [--tags a,b] [--expires 7d] [--api-url <url>]
                              make a single-use Smartcar Connect link for a car owner, for one car unless
                              --vehicles says more (same table as vehicles)
  actions redrive             move dead-lettered actions back to the actions queue after a fix
`;

const main = async (argv: readonly string[]): Promise<number> => {
  const [group, ...rest] = argv;
  const io = { out: process.stdout, err: process.stderr };
  try {
    if (group === "rules") return await rulesCommand(rest, io);
    if (group === "vehicles") return await vehiclesCommand(rest, () => resolveTarget(), io);
    if (group === "connect") return await connectCommand(rest, () => resolveTarget(), io);
    if (group === "actions") return await actionsCommand(rest, () => resolveTarget(), io);
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof RuntimeFileError)) throw error;
    process.stderr.write(`dashlight: ${error.message}\n`);
    return 1;
  }
  process.stderr.write(USAGE);
  return group === undefined || group === "help" || group === "--help" ? 0 : 2;
};

process.exitCode = await main(process.argv.slice(2));
