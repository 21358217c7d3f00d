/**
 * infra/docker-compose.yml, the production-like deployment, checked three ways:
 * - against the Compose Specification's JSON schema (the one Docker Compose itself validates
 *   with, as shipped by dclint), so a misspelt key or condition fails here and not at deploy;
 * - for the settings this platform depends on (single-node transactions, no auto-created topics,
 *   the contract's topics, health checks, start order) and for drift from the repo (entry
 *   points, workspace packages, topic names);
 * - with `docker compose config`, when the Docker Compose plugin is installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DCLinter } from 'dclint';
import { parse } from 'yaml';
import { TOPICS, DEFAULT_PARTITIONS } from '@clickstream/shared';
import { repoRoot } from '../src/paths.js';
import { serviceCommand } from '../src/service-command.js';

const composeFile = join(repoRoot, 'infra', 'docker-compose.yml');
const dockerfile = join(repoRoot, 'infra', 'docker', 'Dockerfile');

const apps = [
  { service: 'collector', dir: 'collector', port: 8080, portVar: 'COLLECTOR_PORT', needsDatabase: false },
  { service: 'processor', dir: 'processor', port: 9464, portVar: 'PROCESSOR_METRICS_PORT', needsDatabase: true },
  { service: 'dashboard', dir: 'dashboard', port: 3000, portVar: 'DASHBOARD_PORT', needsDatabase: true },
] as const;

// Parsed YAML of an outside format, read by the assertions below that check its shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

/**
 * YAML syntax and the Compose Specification schema, plus two of dclint's rules that matter for
 * a deployment (pinned image tags, no port published twice); its style rules are left out.
 */
const enforced = new Set(['invalid-yaml', 'invalid-schema', 'unknown-error', 'service-image-require-explicit-tag', 'no-duplicate-exported-ports']);

function schemaErrors(file: string): string[] {
  const linter = new DCLinter({ rules: {}, quiet: true, debug: false, exclude: [] });
  const [result] = linter.lintFiles([file], false);
  const messages: Array<{ rule: string; message: string }> = result?.messages ?? [];
  return messages.filter((m) => enforced.has(m.rule)).map((m) => `${m.rule}: ${m.message}`);
}

function envOf(service: Loose): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((line: string) => line.split(/=(.*)/s).slice(0, 2)));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

function healthcheckCommand(service: Loose): string {
  const check = service.healthcheck?.test;
  return Array.isArray(check) ? check.join(' ') : String(check ?? '');
}

/** The checks that hold for the file as written and for `docker compose config`'s rendering. */
function assertDeployment(compose: Loose): void {
  const services = compose.services as Loose;
  for (const name of ['kafka', 'kafka-init', 'postgres', 'collector', 'processor', 'dashboard']) {
    assert.ok(services[name], `service ${name} is defined`);
  }

  const kafka = services.kafka;
  assert.equal(kafka.image, 'apache/kafka:4.4.0');
  const kafkaEnv = envOf(kafka);
  assert.equal(kafkaEnv.KAFKA_PROCESS_ROLES, 'broker,controller', 'one KRaft node is broker and controller');
  // The same single-node settings as packages/local-infra/src/kafka-broker.ts.
  assert.equal(kafkaEnv.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR, '1');
  assert.equal(kafkaEnv.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR, '1');
  assert.equal(kafkaEnv.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR, '1');
  assert.equal(kafkaEnv.KAFKA_AUTO_CREATE_TOPICS_ENABLE, 'false');
  assert.equal(kafkaEnv.KAFKA_ADVERTISED_LISTENERS, 'PLAINTEXT://kafka:9092');
  assert.match(kafkaEnv.CLUSTER_ID ?? '', /^[A-Za-z0-9_-]{22}$/, 'CLUSTER_ID is a base64url Kafka Uuid');
  assert.ok(healthcheckCommand(kafka).includes('9092'), 'kafka has a health check on its listener');

  const init = services['kafka-init'];
  assert.equal(init.image, kafka.image, 'topics are created with the same Kafka version');
  assert.equal(init.depends_on?.kafka?.condition, 'service_healthy');
  const initScript = [init.entrypoint, init.command].flat().join(' ');
  for (const topic of Object.values(TOPICS)) assert.ok(initScript.includes(topic), `kafka-init creates ${topic}`);
  assert.ok(initScript.includes(`--partitions ${DEFAULT_PARTITIONS}`), `topics get ${DEFAULT_PARTITIONS} partitions`);
  assert.ok(initScript.includes('--replication-factor 1'));
  // Raw events do not outlive RAW_RETENTION_DAYS: set at creation, and again on existing topics.
  // As written, or as `docker compose config` renders it with the setting unset.
  const sevenDaysByDefault = /^(\$\{RAW_RETENTION_DAYS:-7\}|7)$/;
  assert.match(envOf(init).RAW_RETENTION_DAYS ?? '', sevenDaysByDefault, 'kafka-init reads RAW_RETENTION_DAYS, 7 days by default');
  assert.match(initScript, /--create[^\n]*\\\n[^\n]*\\\n[^\n]*--config retention\.ms=\S+ --config segment\.ms=86400000/, 'raw topics are created with retention.ms and daily segments');
  assert.match(initScript, /kafka-configs\.sh[^\n]*--alter[^\n]*\\\n[^\n]*--add-config retention\.ms=\S+,segment\.ms=86400000/, 'existing raw topics get them too');
  assert.match(envOf(services.processor).RAW_RETENTION_DAYS ?? '', sevenDaysByDefault, 'the processor enforces the same retention');

  const postgres = services.postgres;
  assert.match(postgres.image, /^postgres:16/);
  assert.equal(envOf(postgres).POSTGRES_DB, 'clickstream');
  assert.ok((postgres.volumes ?? []).length > 0, 'PostgreSQL keeps its data in a volume');
  assert.ok(healthcheckCommand(postgres).includes('pg_isready'));

  for (const app of apps) {
    const service = services[app.service];
    const env = envOf(service);
    assert.equal(env.NODE_ENV, 'production', `${app.service} NODE_ENV`);
    assert.equal(env.KAFKA_BROKERS, 'kafka:9092', `${app.service} KAFKA_BROKERS`);
    assert.equal(env[app.portVar], String(app.port), `${app.service} ${app.portVar}`);
    assert.ok(healthcheckCommand(service).includes(`127.0.0.1:${app.port}/healthz`), `${app.service} health check on /healthz`);
    assert.ok(service.restart && service.restart !== 'no', `${app.service} has a restart policy`);
    assert.equal(service.build?.target, app.service, `${app.service} builds its own Dockerfile target`);
    assert.equal(service.depends_on?.['kafka-init']?.condition, 'service_completed_successfully', `${app.service} waits for the topics`);
    if (app.needsDatabase) {
      assert.equal(service.depends_on?.postgres?.condition, 'service_healthy', `${app.service} waits for PostgreSQL`);
      assert.match(env.DATABASE_URL ?? '', /^postgres:\/\/[^@]+@postgres:5432\/clickstream$/);
    }
  }
}

test('the compose file is valid against the Compose Specification schema', () => {
  assert.deepEqual(schemaErrors(composeFile), []);
});

test('the schema check rejects a compose file with an unknown depends_on condition', (t) => {
  // Proves the validator above can fail: the same file with one wrong word.
  const dir = mkdtempSync(join(tmpdir(), 'compose-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const broken = join(dir, 'docker-compose.yml');
  const source = readFileSync(composeFile, 'utf8');
  assert.ok(source.includes('condition: service_completed_successfully'));
  writeFileSync(broken, source.replace('condition: service_completed_successfully', 'condition: service_finished'));
  const errors = schemaErrors(broken);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0] ?? '', /invalid-schema/);
});

test('the deployment has the settings the platform depends on', () => {
  const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as Loose;
  assertDeployment(compose);
  const dashboardEnv = envOf(compose.services.dashboard);
  assert.match(dashboardEnv.API_TOKEN ?? '', /^\$\{API_TOKEN:\?.+\}$/, 'API_TOKEN must come from the environment, with no default');
  assert.equal(dashboardEnv.API_READ_TOKENS, '${API_READ_TOKENS:-}', 'read-only tokens come from the environment, none by default');
  for (const app of apps) {
    assert.equal(compose.services[app.service].build.dockerfile, 'infra/docker/Dockerfile');
  }
});

test('each Dockerfile target starts the app the way its package.json start script does', () => {
  const source = readFileSync(dockerfile, 'utf8');
  assert.match(source, /^USER node$/m, 'the services run as a non-root user');
  assert.match(source, /pnpm install --frozen-lockfile/);
  for (const app of apps) {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'apps', app.dir, 'package.json'), 'utf8')) as Loose;
    const start = String(pkg.scripts?.start ?? '');
    const command = serviceCommand(app.dir);
    const entry = command.args.at(-1)!;
    assert.ok(entry.endsWith('.ts'), `apps/${app.dir} start script runs a .ts entry through tsx: ${start}`);
    assert.ok(existsSync(join(repoRoot, 'apps', app.dir, entry)), `apps/${app.dir}/${entry} exists`);
    const target = new RegExp(`^FROM runtime AS ${app.service}$([\\s\\S]*?)(?=^FROM |(?![\\s\\S]))`, 'm').exec(source)?.[1] ?? '';
    assert.ok(target, `Dockerfile has a ${app.service} target`);
    assert.ok(target.includes(`WORKDIR /app/apps/${app.dir}`), `${app.service} target works in apps/${app.dir}`);
    const cmd = `CMD ${JSON.stringify(['node', ...command.args]).replaceAll('","', '", "')}`;
    assert.ok(target.includes(cmd), `${app.service} target runs ${cmd}, as its start script does`);
    assert.ok(target.includes(`EXPOSE ${app.port}`), `${app.service} target exposes ${app.port}`);
  }
  const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['**/node_modules', '.data', '.git']) assert.ok(ignored.includes(entry), `.dockerignore leaves out ${entry}`);
});

function dockerCompose(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync('docker', ['compose', '-f', composeFile, ...args], { encoding: 'utf8', env, timeout: 60_000 });
}

test('docker compose config accepts the file and renders the same deployment', (t) => {
  const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    // The schema test above still validates the file; this adds Docker's own loader when present.
    const why = probe.error ? 'the docker client is not installed' : `the Docker Compose plugin is missing (${(probe.stderr || probe.stdout).trim().split('\n')[0]})`;
    t.skip(`skipped: ${why}`);
    return;
  }
  const base = { ...process.env };
  delete base.API_TOKEN;
  const rendered = dockerCompose(['config', '--format', 'json'], { ...base, API_TOKEN: 'compose-check-token-0123456789' });
  assert.equal(rendered.status, 0, rendered.stderr);
  const compose = JSON.parse(rendered.stdout) as Loose;
  assertDeployment(compose);
  assert.equal(envOf(compose.services.dashboard).API_TOKEN, 'compose-check-token-0123456789');

  const missing = dockerCompose(['config', '--quiet'], base);
  assert.notEqual(missing.status, 0, 'config fails without API_TOKEN');
  assert.match(missing.stderr, /API_TOKEN/);
});
