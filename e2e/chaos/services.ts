/**
 * The platform's services as real child processes (as `npm start` runs them), each on a fixed
 * free port so it can be SIGKILLed and started again at the same address.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { serviceCommand, waitFor } from '@clickstream/local-infra';

export type ServiceName = 'collector' | 'processor' | 'dashboard';

/** One running instance; `restart` brings up a fresh process with the same environment. */
export class Service {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log = '';

  constructor(
    readonly name: ServiceName,
    readonly healthUrl: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last 50 kB of everything the service wrote, across restarts. */
  output(): string {
    return this.log;
  }

  start(): void {
    const command = serviceCommand(this.name);
    const child = spawn(process.execPath, command.args, {
      cwd: command.cwd,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString('utf8')).slice(-50_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  async healthy(): Promise<boolean> {
    try {
      const response = await fetch(this.healthUrl, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      return response.ok;
    } catch {
      return false;
    }
  }

  async waitHealthy(timeoutMs = 120_000): Promise<void> {
    await waitFor(
      `${this.name} health at ${this.healthUrl}`,
      async () => {
        if (this.child && (this.child.exitCode !== null || this.child.signalCode !== null)) {
          throw new Error(`${this.name} exited:\n${this.log.slice(-3000)}`);
        }
        return this.healthy();
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  /** kill -9: no drain, no goodbye, as when a machine dies. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }

  /** SIGTERM: the service drains and exits; SIGKILL after a bound. */
  async stop(timeoutMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.kill('SIGTERM');
    await this.exited;
    clearTimeout(timer);
    this.child = undefined;
  }
}
