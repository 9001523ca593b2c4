/**
 * The template's Lambda functions as `sam build` and Lambda see them: build properties, handler,
 * Timeout, MemorySize, layers, LoggingConfig and the declared environment (Globals merged, intrinsics
 * resolved as `sam local` resolves them), and the environment Lambda gives the runtime.
 */
import { join } from 'node:path';
import type { Json, TemplateResolver } from '../template.ts';

export const repoRoot = join(import.meta.dirname, '..', '..');

export interface LambdaFunction {
  id: string;
  /** `handler.handler`: the module (relative to the artifact) and its export. */
  handler: string;
  codeUri: string;
  runtime: string;
  timeoutSeconds: number;
  memorySize: number;
  /** Logical ids of the layers the function lists (`!Ref Layer`). */
  layers: string[];
  /** What the template declares, values resolved (sam local: unresolved intrinsics become ""). */
  environment: Record<string, string>;
  logging: { logFormat?: string; applicationLogLevel?: string };
  buildMethod: string | undefined;
  buildProperties: Record<string, Json>;
  events: Record<string, { Type: string; Properties: Record<string, Json> }>;
}

type Props = Record<string, Json>;
const asProps = (value: Json | undefined): Props =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};

/** sam local's stringification of variable values (samcli/local/lambdafn/env_vars.py). */
function envString(value: Json | undefined): string {
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (value === null || value === undefined || typeof value === 'object') return '';
  return String(value);
}

/** Every `AWS::Serverless::Function`, in template order. */
export function lambdaFunctions(resolver: TemplateResolver): LambdaFunction[] {
  const globals = asProps(resolver.resolve(asProps(resolver.template.Globals?.Function as Json)));
  return resolver.resourcesOfType('AWS::Serverless::Function').map((id) => {
    const { Properties: props, Metadata: meta } = resolver.resource(id);
    const get = (key: string): Json | undefined => props[key] ?? globals[key];
    const variables = {
      ...asProps(asProps(globals.Environment).Variables),
      ...asProps(asProps(props.Environment).Variables),
    };
    const logging = asProps(get('LoggingConfig'));
    return {
      id,
      handler: String(get('Handler') ?? ''),
      codeUri: String(get('CodeUri') ?? '.'),
      runtime: String(get('Runtime') ?? ''),
      timeoutSeconds: Number(get('Timeout') ?? 3),
      memorySize: Number(get('MemorySize') ?? 128),
      layers: (Array.isArray(get('Layers')) ? (get('Layers') as Json[]) : []).map(String),
      environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, envString(v)])),
      logging: {
        ...(logging.LogFormat ? { logFormat: String(logging.LogFormat) } : {}),
        ...(logging.ApplicationLogLevel ? { applicationLogLevel: String(logging.ApplicationLogLevel) } : {}),
      },
      buildMethod: meta.BuildMethod === undefined ? undefined : String(meta.BuildMethod),
      buildProperties: asProps(meta.BuildProperties),
      events: asProps(props.Events) as LambdaFunction['events'],
    };
  });
}

export function lambdaFunction(resolver: TemplateResolver, id: string): LambdaFunction {
  const fn = lambdaFunctions(resolver).find((f) => f.id === id);
  if (fn === undefined) throw new Error(`template: no AWS::Serverless::Function ${id}`);
  return fn;
}

export interface EnvOptions {
  region: string;
  /** `sam local --env-vars` values: `Parameters` for every function, `<LogicalId>` for one. */
  envVars?: { Parameters?: Record<string, string> } & Record<string, Record<string, string> | undefined>;
  /** LAMBDA_TASK_ROOT: where the artifact is unpacked (Lambda: /var/task). */
  taskRoot: string;
}

/**
 * The function's process environment, and nothing else, as `sam local` gives it to a container: the
 * variables the template declares (overridden, like `--env-vars`, only where declared; NODE_OPTIONS as
 * `sam build` adds it for Sourcemap), then sam local's own (samcli/local/lambdafn/env_vars.py: the
 * function's settings, AWS_SAM_LOCAL, region, placeholder credentials), then what the Lambda image
 * defines (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime)
 * and LoggingConfig's AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL.
 */
export function lambdaEnvironment(fn: LambdaFunction, options: EnvOptions): Record<string, string> {
  const declared = { ...fn.environment };
  // sam build appends --enable-source-maps to the function's NODE_OPTIONS when Sourcemap is true
  // (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-using-build-typescript.html).
  if (fn.buildMethod === 'esbuild' && fn.buildProperties.Sourcemap === true) {
    declared.NODE_OPTIONS = [declared.NODE_OPTIONS, '--enable-source-maps'].filter(Boolean).join(' ');
  }
  for (const source of [options.envVars?.Parameters, options.envVars?.[fn.id]]) {
    for (const [key, value] of Object.entries(source ?? {})) if (key in declared) declared[key] = value;
  }
  const runtime = fn.runtime || 'nodejs24.x';
  return {
    // sam local (env_vars.py _get_aws_variables): always passed, declared variables may override them.
    AWS_SAM_LOCAL: 'true',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(fn.timeoutSeconds),
    AWS_LAMBDA_FUNCTION_HANDLER: fn.handler,
    AWS_LAMBDA_FUNCTION_NAME: fn.id,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `aws/lambda/${fn.id}`,
    AWS_LAMBDA_LOG_STREAM_NAME: '$LATEST',
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    // sam local's placeholders when no credentials are given; never the caller's own.
    AWS_ACCESS_KEY_ID: 'defaultkey',
    AWS_SECRET_ACCESS_KEY: 'defaultsecret',
    AWS_ACCOUNT_ID: '123456789012',
    ...declared,
    // The Lambda image's runtime variables.
    _HANDLER: fn.handler,
    AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
    LAMBDA_TASK_ROOT: options.taskRoot,
    LANG: 'en_US.UTF-8',
    PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    TZ: ':UTC',
    // LoggingConfig: the log format, and the application log level (it applies to the JSON format).
    ...(fn.logging.logFormat ? { AWS_LAMBDA_LOG_FORMAT: fn.logging.logFormat } : {}),
    ...(fn.logging.logFormat === 'JSON' && fn.logging.applicationLogLevel
      ? { AWS_LAMBDA_LOG_LEVEL: fn.logging.applicationLogLevel }
      : {}),
  };
}
