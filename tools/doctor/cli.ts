/**
 * `npm run doctor`: finds Cognito federation misconfigurations before a user does. The checks live
 * in the modules beside this file; this only parses flags, runs them and prints the report.
 */
import { readTemplate } from '../../local/template.ts';
import { accessMatrix, renderAccessText } from './access.ts';
import { helpText, parseDoctorArgs, UsageError } from './args.ts';
import { exitCodeOf } from './findings.ts';
import { renderJson, renderText } from './report.ts';
import { defaultDeps, runDoctor } from './run.ts';

async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseDoctorArgs>;
  try {
    parsed = parseDoctorArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`doctor: ${error.message}\nRun npm run doctor -- --help for the flags.\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(helpText);
    return 0;
  }
  const { options } = parsed;
  if (options.access) {
    const rows = await accessMatrix(
      options.templatePath === undefined ? {} : { template: readTemplate(options.templatePath) },
    );
    process.stdout.write(options.json ? `${JSON.stringify(rows, null, 2)}\n` : renderAccessText(rows));
    return 0;
  }
  const report = await runDoctor(options, defaultDeps());
  process.stdout.write(
    options.json
      ? renderJson(report)
      : renderText(report, {
          quiet: options.quiet,
          color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
        }),
  );
  return exitCodeOf(report);
}

process.exitCode = await main(process.argv.slice(2));
