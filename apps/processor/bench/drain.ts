import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serviceCommand } from '@clickstream/local-infra';
import { Processor } from '../src/runtime/processor.js';
import { parseProcessorConfig } from '../src/env.js';
import { createProcessorMetrics, type ProcessorMetrics } from '../src/metrics.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gc = (globalThis as { gc?: () => void }).gc;

export interface DrainFigures {
  eventsPerSecond: number;
  windowsEmitted: number;
  peakWindows: number;
  /** Peak RSS growth over the run divided by the peak number of open windows. */
  rssBytesPerWindow: number;
  /** Live heap after a full GC at the end of the drain, per window still held (NaN without --expose-gc). */
  heapBytesPerWindow: number;
  checkpointMeanMs: number;
  /** CPU time of this process (processor and its clients) per input event. */
  cpuMicrosPerEvent: number;
}

export const sum = async (metric: { get(): Promise<{ values: Array<{ value: number; metricName?: string }> }> }, suffix?: string) =>
  (await metric.get()).values.filter((v) => !suffix || v.metricName?.endsWith(suffix)).reduce((total, v) => total + v.value, 0);

export function benchProcessor(brokers: readonly string[], databaseUrl: string, prefix: string, group: string, overrides: Record<string, string> = {}) {
  const metrics = createProcessorMetrics();
  const processor = new Processor(
    parseProcessorConfig({ KAFKA_BROKERS: brokers.join(','), DATABASE_URL: databaseUrl, TOPIC_PREFIX: prefix, PROCESSOR_GROUP: group, ...overrides }),
    { log: () => {}, metrics },
  );
  return { processor, metrics };
}

/** The processor, exactly-once on, draining `total` events already on the topic. */
export async function drain(brokers: readonly string[], databaseUrl: string, prefix: string, total: number, overrides: Record<string, string> = {}): Promise<DrainFigures> {
  // A long idle timeout: the input is history, so the wall clock must not close its windows early.
  const group = `${prefix}processor-${Object.values(overrides).join('-') || 'default'}`;
  const { processor, metrics } = benchProcessor(brokers, databaseUrl, prefix, group, { IDLE_TIMEOUT_MS: '3600000', ...overrides });
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const started = Date.now();
  await processor.start();
  let peakWindows = 0;
  let peakRss = 0;
  for (;;) {
    await sleep(250);
    peakWindows = Math.max(peakWindows, await sum(metrics.openWindows));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if ((await sum(metrics.eventsIn)) < total || !processor.idle) continue;
    const lag = await processor.consumerLag();
    if (Object.values(lag).every((l) => l === 0)) break;
  }
  const seconds = (Date.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  gc?.();
  const heldWindows = await sum(metrics.openWindows);
  const heapBytesPerWindow = gc && heldWindows > 0 ? (process.memoryUsage().heapUsed - heapBefore) / heldWindows : Number.NaN;
  const figures = await checkpointFigures(metrics);
  await processor.stop();
  return {
    eventsPerSecond: total / seconds,
    windowsEmitted: await sum(metrics.windowsEmitted),
    peakWindows,
    rssBytesPerWindow: peakWindows > 0 ? (peakRss - rssBefore) / peakWindows : 0,
    heapBytesPerWindow,
    checkpointMeanMs: figures.meanMs,
    cpuMicrosPerEvent: (cpu.user + cpu.system) / total,
  };
}

async function checkpointFigures(metrics: ProcessorMetrics): Promise<{ meanMs: number }> {
  const count = await sum(metrics.checkpointDuration, '_count');
  const total = await sum(metrics.checkpointDuration, '_sum');
  return { meanMs: count > 0 ? (total / count) * 1000 : 0 };
}

const DRAIN_CHILD_FLAG = '--drain-child';
const DRAIN_TIMEOUT_MS = 30 * 60_000;

/**
 * The drain in a fresh process launched with the processor's own node flags, as it runs in
 * production. In the bench's process it measured ~20 % slower: that process has filled the topic
 * and run the baseline consumers, whose garbage and JIT feedback the processor then inherits.
 */
export async function drainInFreshProcess(
  brokers: readonly string[],
  databaseUrl: string,
  prefix: string,
  total: number,
  overrides: Record<string, string> = {},
): Promise<DrainFigures> {
  const { nodeFlags } = serviceCommand('processor');
  const child = spawn(process.execPath, ['--expose-gc', ...nodeFlags, '--import', 'tsx', fileURLToPath(import.meta.url), DRAIN_CHILD_FLAG], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      DRAIN_BROKERS: brokers.join(','),
      DRAIN_DATABASE_URL: databaseUrl,
      DRAIN_PREFIX: prefix,
      DRAIN_TOTAL: String(total),
      DRAIN_OVERRIDES: JSON.stringify(overrides),
    },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  // A drain that hangs must not hang the bench: 2 M events take about a minute.
  const timer = setTimeout(() => child.kill('SIGKILL'), DRAIN_TIMEOUT_MS);
  // 'close', not 'exit': only then has all of the child's stdout been read.
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  const line = output.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`the drain process exited with ${code}: ${output.slice(-2000)}`);
  return JSON.parse(line) as DrainFigures;
}

if (process.argv.includes(DRAIN_CHILD_FLAG)) {
  const env = process.env;
  const overrides = JSON.parse(env.DRAIN_OVERRIDES ?? '{}') as Record<string, string>;
  const figures = await drain(env.DRAIN_BROKERS!.split(','), env.DRAIN_DATABASE_URL!, env.DRAIN_PREFIX!, Number(env.DRAIN_TOTAL), overrides);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}
