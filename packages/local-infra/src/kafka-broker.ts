import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync, closeSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { isPortOpen, waitFor } from './ports.js';
import { repoRoot } from './paths.js';

export const KAFKA_VERSION = '4.4.0';

const pomFile = join(repoRoot, 'infra', 'kafka', 'pom.xml');
// Kafka 4 logs through Log4j 2 (log4j2.configurationFile); Log4j 1 files are no longer read.
const log4jFile = join(repoRoot, 'infra', 'kafka', 'log4j2.properties');

export interface KafkaBrokerOptions {
  /** Folder for the broker's config, logs and partitions; created when missing. */
  dataDir: string;
  port: number;
  controllerPort: number;
  /** Heap for the JVM; the default fits a laptop and a 2-core CI box. */
  heap?: string;
  /** Extra server.properties lines, e.g. a shorter transaction timeout for tests. */
  overrides?: Record<string, string | number>;
  log?: (message: string) => void;
}

/** Where the jars of this Kafka version are kept, shared by every broker on the machine. */
export function kafkaLibsDir(): string {
  return join(repoRoot, '.data', `kafka-${KAFKA_VERSION}-libs`);
}

/**
 * Fetches Apache Kafka and its runtime dependencies from Maven Central (cached by Maven's local
 * repository), once per version.
 */
export function ensureKafkaJars(log: (message: string) => void = () => {}): string {
  const libs = kafkaLibsDir();
  const marker = join(libs, '.complete');
  if (existsSync(marker)) return libs;
  log(`fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central…`);
  mkdirSync(libs, { recursive: true });
  const mvn = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      pomFile,
      `-Dkafka.version=${KAFKA_VERSION}`,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${libs}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (mvn.error) throw new Error(`could not run Maven (needed to fetch Kafka): ${mvn.error.message}`);
  if (mvn.status !== 0) throw new Error(`Maven could not fetch the Kafka jars (exit ${mvn.status})`);
  const jars = readdirSync(libs).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => j.startsWith('kafka_2.13-'))) throw new Error(`no kafka_2.13 jar in ${libs} after Maven ran`);
  writeFileSync(marker, `${jars.length} jars\n`);
  return libs;
}

function serverProperties(options: KafkaBrokerOptions, dataDir: string): string {
  const settings: Record<string, string | number> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${options.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${options.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${options.port}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': join(dataDir, 'kraft-logs'),
    'num.partitions': 6,
    // One node: every internal topic must accept a replication factor and min ISR of 1, or
    // initTransactions and the group coordinator hang.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 10,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': 'false',
    'log.retention.hours': 24,
    'log.segment.bytes': 128 * 1024 * 1024,
    // A killed producer's open transaction blocks read_committed readers until it is aborted.
    'transaction.max.timeout.ms': 900000,
    'num.network.threads': 2,
    'num.io.threads': 4,
    ...options.overrides,
  };
  return Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')
    .concat('\n');
}

function javaClasspath(libs: string): string {
  return `${libs}/*`;
}

/**
 * A Kafka Uuid: 16 random bytes in URL-safe base64 without padding. Like Kafka's own
 * Uuid.randomUuid, never one starting with '-', which command-line parsers take for an option
 * (1 draw in 64 did, and failed the storage format).
 */
export function newClusterId(random: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = random().toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * A single-node KRaft broker (broker and controller in one JVM, a static quorum of one voter) run
 * from Apache's jars. Kafka 4 has no ZooKeeper mode; storage is formatted once per folder.
 * The same folder can be stopped and started again: data survives, as for a real restart.
 */
export class KafkaBroker {
  readonly dataDir: string;
  readonly brokers: string[];
  private process: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private readonly log: (message: string) => void;

  constructor(private readonly options: KafkaBrokerOptions) {
    this.dataDir = resolve(options.dataDir);
    this.brokers = [`127.0.0.1:${options.port}`];
    this.log = options.log ?? (() => {});
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  async start(): Promise<void> {
    if (this.process) return;
    if (await isPortOpen(this.options.port)) {
      throw new Error(`port ${this.options.port} is already in use; cannot start a Kafka broker there`);
    }
    const libs = ensureKafkaJars(this.log);
    mkdirSync(this.dataDir, { recursive: true });
    const configFile = join(this.dataDir, 'server.properties');
    writeFileSync(configFile, serverProperties(this.options, this.dataDir));
    this.killStaleBroker();
    this.format(libs, configFile);

    const logsDir = join(this.dataDir, 'broker-logs');
    mkdirSync(logsDir, { recursive: true });
    const out = openSync(join(logsDir, 'stdout.log'), 'a');
    const child = spawn(
      'java',
      [
        `-Xms256m`,
        `-Xmx${this.options.heap ?? '768m'}`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=file:${log4jFile}`,
        `-Dkafka.logs.dir=${logsDir}`,
        '-cp',
        javaClasspath(libs),
        'kafka.Kafka',
        configFile,
      ],
      { stdio: ['ignore', out, out] },
    );
    closeSync(out);
    this.process = child;
    writeFileSync(join(this.dataDir, 'broker.pid'), String(child.pid));
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        if (this.process === child) this.process = undefined;
        this.log(`Kafka broker exited (${signal ?? `code ${code}`})`);
        resolveExit();
      });
    });
    await this.waitUntilReady(child);
  }

  /** Clean shutdown: SIGTERM lets the broker flush and close its logs; SIGKILL after a bound. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const child = this.process;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** An unclean crash, for failure tests. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private format(libs: string, configFile: string): void {
    if (existsSync(join(this.dataDir, 'kraft-logs', 'meta.properties'))) return;
    const clusterId = newClusterId();
    const result = spawnSync(
      'java',
      ['-cp', javaClasspath(libs), `-Dlog4j2.configurationFile=file:${log4jFile}`, `-Dkafka.logs.dir=${this.dataDir}`,
        'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', configFile, '-g'],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) {
      throw new Error(`formatting Kafka storage failed: ${result.stderr || result.stdout}`);
    }
  }

  /** A broker left running by a crashed parent would hold the folder's lock and ports. */
  private killStaleBroker(): void {
    const pidFile = join(this.dataDir, 'broker.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('kafka.Kafka') && cmdline.includes(this.dataDir)) {
        this.log(`stopping a stale Kafka broker (pid ${pid}) left from an earlier run`);
        process.kill(pid, 'SIGKILL');
      }
    } catch {
      // Not running any more: nothing to do.
    }
  }

  private async waitUntilReady(child: ChildProcess): Promise<void> {
    const kafka = new Kafka({ brokers: this.brokers, clientId: 'local-infra-probe', logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka.admin();
    try {
      await waitFor(
        `the Kafka broker on port ${this.options.port}`,
        async () => {
          if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(`the broker exited during start-up; see ${join(this.dataDir, 'broker-logs')}`);
          }
          if (!(await isPortOpen(this.options.port))) return false;
          await admin.connect();
          const cluster = await admin.describeCluster();
          return cluster.brokers.length > 0;
        },
        { timeoutMs: 90_000, intervalMs: 250 },
      );
    } catch (error) {
      if (child.exitCode === null) child.kill('SIGKILL');
      throw error;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}
