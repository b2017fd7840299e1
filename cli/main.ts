import { rulesCommand } from "./rules.ts";

const USAGE = `usage: dashlight rules <command>

commands:
  rules validate [paths...]   validate rule files (default: rules/); one file:line:column line per problem
  rules schema                print the JSON Schema of rule files
  rules test [dir]            run fixtures in <dir>/fixtures against the rules in <dir> (default: rules)
`;

const main = async (argv: readonly string[]): Promise<number> => {
  const [group, ...rest] = argv;
  if (group === "rules") return rulesCommand(rest, { out: process.stdout, err: process.stderr });
  process.stderr.write(USAGE);
  return group === undefined || group === "help" || group === "--help" ? 0 : 2;
};

process.exitCode = await main(process.argv.slice(2));
