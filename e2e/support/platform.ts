/**
 * The whole platform for a browser test: topics under a fresh prefix and a fresh database on the
 * test broker and PostgreSQL, and the collector, processor and dashboard as child processes
 * started through their start scripts (as `npm start` runs them), stopped with the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { freePort, repoRoot, serviceCommand } from '@clickstream/local-infra';
import { createTestDatabase, createTestTopics, testBrokers, testScope, uniqueId, waitFor } from '@clickstream/local-infra/testing';
import { ensureUiBuilt } from '../../apps/dashboard/web/build-ui.js';

export type Scope = ReturnType<typeof testScope>;

export const OUT_OF_ORDERNESS_MS = 1000;
export const IDLE_TIMEOUT_MS = 1000;
export const screenshots = join(repoRoot, 'test-results', 'screenshots');

/** Starts one service the way `npm start` does, and stops it (SIGTERM) with the test. */
export function startService(t: Scope, name: 'collector' | 'processor' | 'dashboard', env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const command = serviceCommand(name);
  const child = spawn(process.execPath, command.args, { cwd: command.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  t.after(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  );
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') process.stderr.write(`${name} exited (${signal ?? code}):\n${output}\n`);
  });
  return { child, output: () => output };
}

export async function waitHealthy(name: string, url: string, service: { child: ChildProcess; output: () => string }): Promise<void> {
  let onExit: () => void = () => {};
  const exited = new Promise<never>((_, reject) => {
    onExit = () => reject(new Error(`${name} exited before it was healthy:\n${service.output()}`));
    service.child.once('exit', onExit);
  });
  try {
    await Promise.race([waitFor(`${name} health at ${url}`, async () => (await fetch(url)).ok, { timeoutMs: 90_000, intervalMs: 250 }), exited]);
  } finally {
    service.child.off('exit', onExit);
  }
}

export interface Platform {
  /** The services' environment (topic prefix, processor group, database, …). */
  env: NodeJS.ProcessEnv;
  dashboardUrl: string;
  collectorUrl: string;
  token: string;
  databaseUrl: string;
  stopDashboard: () => Promise<void>;
  startDashboard: () => Promise<void>;
}

export async function startPlatform(t: Scope, extraEnv: NodeJS.ProcessEnv = {}): Promise<Platform> {
  await ensureUiBuilt();
  const { prefix } = await createTestTopics(t, 2);
  const databaseUrl = await createTestDatabase(t);
  const [collectorPort, processorPort, dashboardPort] = [await freePort(), await freePort(), await freePort()];
  const token = randomBytes(24).toString('base64url').slice(0, 32);
  const collectorUrl = `http://127.0.0.1:${collectorPort}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    KAFKA_BROKERS: testBrokers().join(','),
    DATABASE_URL: databaseUrl,
    TOPIC_PREFIX: prefix,
    PROCESSOR_GROUP: uniqueId('proc-'),
    COLLECTOR_PORT: String(collectorPort),
    PROCESSOR_METRICS_PORT: String(processorPort),
    DASHBOARD_PORT: String(dashboardPort),
    API_TOKEN: token,
    COLLECTOR_PUBLIC_URL: collectorUrl,
    OUT_OF_ORDERNESS_MS: String(OUT_OF_ORDERNESS_MS),
    IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
    CHECKPOINT_INTERVAL_MS: '300',
    ...extraEnv,
  };
  const collector = startService(t, 'collector', env);
  const processor = startService(t, 'processor', env);
  const dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
  let dashboard = startService(t, 'dashboard', env);
  await Promise.all([
    waitHealthy('collector', `${collectorUrl}/healthz`, collector),
    waitHealthy('processor', `http://127.0.0.1:${processorPort}/healthz`, processor),
    waitHealthy('dashboard', `${dashboardUrl}/healthz`, dashboard),
  ]);
  const stopDashboard = () =>
    new Promise<void>((resolve) => {
      dashboard.child.once('exit', () => resolve());
      dashboard.child.kill('SIGTERM');
    });
  const startDashboard = async () => {
    dashboard = startService(t, 'dashboard', env);
    await waitHealthy('dashboard', `${dashboardUrl}/healthz`, dashboard);
  };
  return { env, dashboardUrl, collectorUrl, token, databaseUrl, stopDashboard, startDashboard };
}

/** A full-page screenshot under test-results/screenshots; returns its path. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshots, { recursive: true });
  const path = join(screenshots, `${name}.png`);
  // The header is sticky: from a scrolled position a full-page capture draws it mid-page.
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path, fullPage: true });
  return path;
}
