/**
 * One function, one isolated runtime: Node processes started from the function's artifact with
 * exactly its Lambda environment (bootstrap.mjs), like warm Lambda execution environments. Their
 * module state (configuration, caches, clients) lives there. Each handles one invocation at a time;
 * an invocation while all are busy starts another, as Lambda scales
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html). A crash or a timeout
 * discards that container, as Lambda does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { type Artifact, functionArtifact } from '../../scripts/build.ts';
import { type EnvOptions, type LambdaFunction, lambdaEnvironment } from './functions.ts';

const bootstrap = new URL('./bootstrap.mjs', import.meta.url).pathname;

export interface LambdaError {
  errorType: string;
  errorMessage: string;
}

/** An invocation that failed: the function threw, or its container failed, or it timed out. */
export class InvocationError extends Error {
  readonly errorType: string;
  readonly errorMessage: string;
  constructor(functionId: string, error: LambdaError) {
    super(`${functionId}: ${error.errorType}: ${error.errorMessage}`);
    this.name = 'InvocationError';
    this.errorType = error.errorType;
    this.errorMessage = error.errorMessage;
  }
}

export interface RuntimeOptions {
  artifact: Artifact;
  environment: Record<string, string>;
  timeoutMs: number;
  /** Drop the function's output; otherwise its lines go to this process's stdout and stderr. */
  quiet: boolean;
  /** Hostname → address entries, like `sam local --add-host`. */
  hosts?: Record<string, string>;
  /** Receives the function's stdout lines (its EMF lines), quiet or not. */
  output?: (line: string) => void;
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** The answer, held until the function's output up to it has been passed on. */
  outcome?: { result: unknown } | { error: LambdaError };
  flushed?: boolean;
}

/** Written by bootstrap.mjs on stdout after each invocation: the output before it belongs to it. */
const FLUSH_MARK = '\u0000offline-runtime:flushed:';

type Message =
  | { type: 'ready' }
  | { type: 'init-error'; error: LambdaError }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: LambdaError };

interface Container {
  child: ChildProcess;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  /** Handling an invocation (or reserved for one): never given a second. */
  busy: boolean;
}

export class FunctionRuntime {
  readonly functionId: string;
  readonly environment: Readonly<Record<string, string>>;
  private readonly options: RuntimeOptions;
  private readonly containers = new Set<Container>();
  private clockOffsetMs = 0;
  private nextId = 1;
  private closed = false;

  constructor(options: RuntimeOptions) {
    this.options = options;
    this.functionId = options.artifact.functionId;
    this.environment = Object.freeze({ ...options.environment });
  }

  /**
   * Starts a container (if none is running) and waits for its init phase.
   *
   * @throws InvocationError when the function fails to initialise (Runtime.ImportModuleError, a
   *   configuration error…), with Lambda's error type and message.
   */
  async start(): Promise<void> {
    if (this.closed) throw new Error(`${this.functionId}: the runtime is closed`);
    const [running] = this.containers;
    await (running ?? this.spawnContainer()).ready;
  }

  /** An idle container, or a new one when every container is busy; reserved for the caller. */
  private async acquire(): Promise<Container> {
    if (this.closed) throw new Error(`${this.functionId}: the runtime is closed`);
    const container = [...this.containers].find((c) => !c.busy) ?? this.spawnContainer();
    container.busy = true;
    await container.ready;
    return container;
  }

  private spawnContainer(): Container {
    const { artifact, quiet, hosts } = this.options;
    const child = spawn(
      process.execPath,
      [
        bootstrap,
        JSON.stringify({
          moduleFile: artifact.moduleFile,
          exportName: artifact.exportName,
          hosts,
          clock: true,
          clockOffsetMs: this.clockOffsetMs,
        }),
      ],
      {
        cwd: artifact.taskRoot,
        env: this.options.environment,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'json',
      },
    );
    const pending = new Map<number, Pending>();
    const settle = (id: number): void => {
      const p = pending.get(id);
      if (p?.outcome === undefined || !p.flushed) return;
      pending.delete(id);
      clearTimeout(p.timer);
      if ('result' in p.outcome) p.resolve(p.outcome.result);
      else p.reject(new InvocationError(this.functionId, p.outcome.error));
    };
    if (child.stdout) {
      // Whole lines, so two functions' output never interleaves within a line; an invocation is
      // answered only once the lines it wrote have been passed on (log assertions see them).
      createInterface({ input: child.stdout }).on('line', (line) => {
        const mark = line.indexOf(FLUSH_MARK);
        const text = mark < 0 ? line : line.slice(0, mark);
        if (mark < 0 || text !== '') {
          if (!quiet) process.stdout.write(`${text}\n`);
          this.options.output?.(`${text}\n`);
        }
        if (mark < 0) return;
        const id = Number(line.slice(mark + FLUSH_MARK.length));
        const p = pending.get(id);
        if (p) p.flushed = true;
        settle(id);
      });
    }
    if (child.stderr) {
      if (quiet) child.stderr.resume();
      else createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`${line}\n`));
    }
    let settleReady: { resolve(): void; reject(error: Error): void } | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      settleReady = { resolve, reject };
    });
    // A failed init is reported to whoever awaits it; an unawaited one must not crash the process.
    ready.catch(() => {});
    const fail = (error: LambdaError): void => {
      this.containers.delete(container);
      settleReady?.reject(new InvocationError(this.functionId, error));
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        p.reject(new InvocationError(this.functionId, error));
        pending.delete(id);
      }
    };
    child.on('message', (message: Message) => {
      if (message.type === 'ready') settleReady?.resolve();
      else if (message.type === 'init-error') {
        fail(message.error);
        child.kill('SIGKILL');
      } else {
        const p = pending.get(message.id);
        if (p === undefined) return;
        p.outcome = message.type === 'result' ? { result: message.result } : { error: message.error };
        settle(message.id);
      }
    });
    child.on('error', (error) => fail({ errorType: 'Runtime.Unknown', errorMessage: error.message }));
    child.on('exit', (code, signal) =>
      fail({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: - Error: Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}`,
      }),
    );
    const container: Container = { child, ready, pending, busy: false };
    this.containers.add(container);
    return container;
  }

  /**
   * Invokes the handler with `event` and returns its result (JSON, as Lambda returns it).
   *
   * @throws InvocationError when the function throws, fails to initialise, crashes, or outlives its
   *   Timeout (`Task timed out after N.00 seconds`; the container is discarded).
   */
  async invoke(event: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    const container = await this.acquire();
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const id = this.nextId++;
    const answered = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        container.pending.delete(id);
        this.containers.delete(container);
        container.child.kill('SIGKILL');
        reject(
          new InvocationError(this.functionId, {
            errorType: 'Sandbox.Timedout',
            errorMessage: `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
          }),
        );
      }, timeoutMs);
      container.pending.set(id, { resolve, reject, timer });
      container.child.send({ type: 'invoke', id, event, timeoutMs, awsRequestId: randomUUID() });
    });
    try {
      return await answered;
    } finally {
      container.busy = false;
    }
  }

  /** Moves the function's Date by `offsetMs` from the real time (tests of expiry; never timers). */
  setClockOffset(offsetMs: number): void {
    this.clockOffsetMs = offsetMs;
    for (const { child } of this.containers) if (child.connected) child.send({ type: 'clock', offsetMs });
  }

  async close(): Promise<void> {
    this.closed = true;
    const containers = [...this.containers];
    this.containers.clear();
    await Promise.all(
      containers.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await exited;
      }),
    );
  }
}

export interface StartOptions {
  region: string;
  envVars?: EnvOptions['envVars'];
  quiet: boolean;
  hosts?: Record<string, string>;
  output?: (line: string) => void;
}

/** Builds the function's artifact (cached) and returns its runtime, not yet started. */
export async function functionRuntime(fn: LambdaFunction, options: StartOptions): Promise<FunctionRuntime> {
  const artifact = await functionArtifact(fn);
  return new FunctionRuntime({
    artifact,
    environment: lambdaEnvironment(fn, {
      region: options.region,
      taskRoot: artifact.taskRoot,
      ...(options.envVars ? { envVars: options.envVars } : {}),
    }),
    timeoutMs: fn.timeoutSeconds * 1000,
    quiet: options.quiet,
    ...(options.hosts ? { hosts: options.hosts } : {}),
    ...(options.output ? { output: options.output } : {}),
  });
}

export type InitOutcome = { answer: unknown } | { error: LambdaError };

/**
 * Loads `fn`'s artifact once per environment variant (its declared variables replaced by each
 * variant, then overridden and completed as `functionRuntime` does), in one process, and reports
 * whether init failed, or what it answered to `event`. For sweeps over the declared variables (the
 * environment test, the doctor); a variant's module instance lives only for that variant.
 */
export async function checkVariants(
  fn: LambdaFunction,
  variants: readonly Record<string, string>[],
  options: Omit<StartOptions, 'quiet' | 'hosts'> & { event?: unknown },
): Promise<InitOutcome[]> {
  const artifact = await functionArtifact(fn);
  const envs = variants.map((environment) =>
    lambdaEnvironment(
      { ...fn, environment },
      {
        region: options.region,
        taskRoot: artifact.taskRoot,
        ...(options.envVars ? { envVars: options.envVars } : {}),
      },
    ),
  );
  const input = JSON.stringify({
    moduleFile: artifact.moduleFile,
    exportName: artifact.exportName,
    event: options.event,
    variants: envs.map((env) => ({ env })),
  });
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [new URL('./init-check.mjs', import.meta.url).pathname, input], {
      cwd: artifact.taskRoot,
      env: envs[0] ?? {},
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('\u0000init-check:'));
      if (line === undefined) reject(new Error(`${fn.id}: the init check failed (exit ${code}): ${stderr}`));
      else resolve(line.slice('\u0000init-check:'.length));
    });
  });
  return JSON.parse(output) as InitOutcome[];
}
