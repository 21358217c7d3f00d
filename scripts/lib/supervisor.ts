/**
 * The supervisor of `npm start`: runs each service, prefixes its output, watches its health
 * check, and restarts it when it exits, as restart-policy.ts decides. A service that exits 78
 * (a bad setting) is not restarted: the supervisor reports it with the line where the service
 * named the setting, and the caller stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  DEFAULT_RESTART_POLICY,
  INITIAL_RESTART_STATE,
  nextRestart,
  type RestartPolicyOptions,
  type RestartState,
} from './restart-policy.js';

export interface ServiceSpec {
  name: string;
  /** The node binary and its arguments (serviceCommand gives them). */
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  healthUrl: string;
}

export interface ConfigFailure {
  service: string;
  /** The service's own words, e.g. `invalid setting COLLECTOR_PORT: "abc" is not an integer`. */
  message: string;
}

export interface SupervisorOptions {
  log: (message: string) => void;
  /** Where service output goes, each line prefixed with `[name] `. */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  policy?: Readonly<RestartPolicyOptions>;
  /** How often a starting service's health check is asked. */
  healthIntervalMs?: number;
  /** A service exited with a configuration error; it is not restarted. */
  onConfigError: (failure: ConfigFailure) => void;
}

interface Supervised {
  spec: ServiceSpec;
  child?: ChildProcess | undefined;
  state: RestartState;
  healthyAt?: number | undefined;
  restartTimer?: NodeJS.Timeout | undefined;
  /** The last lines the service wrote, to name a configuration error. */
  recentLines: string[];
}

const RECENT_LINES = 20;

export class Supervisor {
  private readonly services: Supervised[];
  private stopping = false;
  private readonly policy: Readonly<RestartPolicyOptions>;

  constructor(
    specs: ServiceSpec[],
    private readonly options: SupervisorOptions,
  ) {
    this.services = specs.map((spec) => ({ spec, state: INITIAL_RESTART_STATE, recentLines: [] }));
    this.policy = options.policy ?? DEFAULT_RESTART_POLICY;
  }

  start(): void {
    for (const service of this.services) this.launch(service);
  }

  /** Process id of a service's current run (undefined between runs). */
  pidOf(name: string): number | undefined {
    return this.services.find((s) => s.spec.name === name)?.child?.pid;
  }

  /** Stops every service: SIGTERM, then SIGKILL after graceMs. Restarts are off from here on. */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.services.map(
        (service) =>
          new Promise<void>((resolve) => {
            clearTimeout(service.restartTimer);
            const child = service.child;
            if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
            child.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }

  private launch(service: Supervised): void {
    if (this.stopping) return;
    const { spec } = service;
    const startedAt = Date.now();
    service.healthyAt = undefined;
    service.recentLines = [];
    const child = spawn(spec.file, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
    service.child = child;
    this.options.log(`${spec.name} started (pid ${child.pid})`);
    const remember = (line: string) => {
      service.recentLines.push(line);
      if (service.recentLines.length > RECENT_LINES) service.recentLines.shift();
    };
    pipeLines(child.stdout, (line) => {
      remember(line);
      (this.options.stdout ?? process.stdout).write(`[${spec.name}] ${line}\n`);
    });
    pipeLines(child.stderr, (line) => {
      remember(line);
      (this.options.stderr ?? process.stderr).write(`[${spec.name}] ${line}\n`);
    });
    void this.watchHealth(service, child);
    child.on('error', (error) => this.options.log(`${spec.name} could not start: ${error.message}`));
    // 'close' comes after the output streams ended, so the service's last words are printed
    // (and known) before the decision below.
    child.on('close', (code, signal) => {
      if (service.child === child) service.child = undefined;
      if (this.stopping) return;
      const exitedAt = Date.now();
      const { state, decision } = nextRestart(service.state, { code, signal, startedAt, healthyAt: service.healthyAt, exitedAt }, this.policy);
      service.state = state;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      const ran = `${((exitedAt - startedAt) / 1000).toFixed(1)} s`;
      if (decision.action === 'stop') {
        const named = [...service.recentLines].reverse().find((line) => /invalid setting/i.test(line));
        const message = messageOf(named ?? service.recentLines.at(-1) ?? 'it printed nothing');
        this.options.log(`${spec.name} exited with a configuration error (${how}); not restarting it: ${message}`);
        this.options.onConfigError({ service: spec.name, message });
        return;
      }
      const why = decision.crashLooping ? `crash-looping: ${service.state.failedStarts} starts in a row failed; ` : '';
      this.options.log(`${spec.name} exited (${how}) after ${ran}; ${why}restarting in ${decision.delayMs} ms`);
      service.restartTimer = setTimeout(() => this.launch(service), decision.delayMs);
    });
  }

  /** Asks the health check until it passes once; the restart policy needs to know when. */
  private async watchHealth(service: Supervised, child: ChildProcess): Promise<void> {
    const interval = this.options.healthIntervalMs ?? 250;
    while (!this.stopping && service.child === child && child.exitCode === null && child.signalCode === null) {
      try {
        const response = await fetch(service.spec.healthUrl, { signal: AbortSignal.timeout(2000) });
        await response.body?.cancel();
        if (response.ok && service.child === child) {
          service.healthyAt = Date.now();
          this.options.log(`${service.spec.name} healthy (pid ${child.pid})`);
          return;
        }
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }
}

/** A JSON log line's message, or the line as it is. */
function messageOf(line: string): string {
  try {
    const parsed = JSON.parse(line) as { msg?: unknown; message?: unknown };
    const message = parsed.msg ?? parsed.message;
    return typeof message === 'string' ? message : line;
  } catch {
    return line;
  }
}

function pipeLines(stream: NodeJS.ReadableStream | null, write: (line: string) => void): void {
  if (!stream) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) write(line);
  });
  stream.on('end', () => {
    if (buffered !== '') write(buffered);
    buffered = '';
  });
}
