/**
 * Each function's declared variables against what its configuration parser requires: the function is
 * built as `sam build` builds it and started alone, with only the variables its template
 * Environment declares (offline values, like `sam local --env-vars`). A function that fails to start
 * would fail every request once deployed, whatever the values: its error names what is missing.
 */
import { ephemeralConfig, offlineFunctionValues } from '../../local/config.ts';
import { lambdaFunctions } from '../../local/lambda/functions.ts';
import { checkVariants } from '../../local/lambda/runtime.ts';
import type { TemplateResolver } from '../../local/template.ts';
import { type Finding, FindingList } from './findings.ts';

/** The Cognito provider names the template declares (what IDENTITY_PROVIDERS lists). */
function providerNames(resolver: TemplateResolver): string[] {
  return resolver
    .resourcesOfType('AWS::Cognito::UserPoolIdentityProvider')
    .map((id) => String(resolver.resource(id).Properties.ProviderName ?? id));
}

export async function checkFunctionEnvironments(
  resolver: TemplateResolver,
  region: string,
): Promise<Finding[]> {
  const config = ephemeralConfig(3000);
  const values = offlineFunctionValues(config, {
    userPoolUrl: 'http://localhost:9229',
    userPoolIssuer: `http://localhost:9229/${config.userPoolId}`,
    identityPoolUrl: 'http://localhost:9230',
    identityProviders: providerNames(resolver),
  });
  const findings: Finding[] = [];
  for (const fn of lambdaFunctions(resolver)) {
    const list = new FindingList('config', fn.id);
    try {
      const [outcome] = await checkVariants(fn, [fn.environment], {
        region,
        envVars: { Parameters: values },
      });
      if (outcome && 'error' in outcome) {
        list.error(
          'config.function-environment',
          `${fn.id} fails to start with the variables its template Environment declares: ${outcome.error.errorType}: ${outcome.error.errorMessage}`,
          `Declare every variable the message names under ${fn.id}'s Environment.Variables in template.yaml (a function receives only the variables its template declares, in Lambda and under sam local), with its value or a parameter.`,
        );
      } else {
        list.ok(
          'config.function-environment',
          `${fn.id} starts with exactly the ${Object.keys(fn.environment).length} variables its template declares`,
        );
      }
    } catch (error) {
      list.warning(
        'config.function-environment',
        `${fn.id} could not be built to check its variables: ${(error as Error).message}`,
        'Run npm ci, then npm run build, and fix what esbuild reports.',
      );
    }
    findings.push(...list.findings);
  }
  return findings;
}
