/**
 * infra/docker/Dockerfile and the compose file's services, checked the way a container engine
 * would find out, without one: no engine runs on the machines that run this suite.
 *
 * - Every path the Dockerfile copies from the build context (COPY, and `cp`/`find` in a RUN that
 *   works in a copy of the context) exists in a clean clone - `git ls-files` - and is not left
 *   out by .dockerignore.
 * - Every `COPY --from` names an earlier stage; the Node.js base image has the major of `engines`.
 * - Each service target's CMD is its app's package.json start script, word for word (the
 *   processor's has V8 flags), in the app's folder.
 * - The compose file's services use those targets; each service's environment names only
 *   settings its app reads (parsed from the app's env.ts), sets those it requires, and its port
 *   setting, health check, EXPOSE and published port agree; the health check uses only what the
 *   slim image has (node) and asks a path the app serves; the Kafka image is the version the
 *   tests run against.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { KAFKA_VERSION } from '../src/kafka-broker.js';
import { repoRoot } from '../src/paths.js';

const dockerfilePath = join(repoRoot, 'infra', 'docker', 'Dockerfile');
const composePath = join(repoRoot, 'infra', 'docker-compose.yml');
const APPS = ['collector', 'processor', 'dashboard'] as const;
type App = (typeof APPS)[number];

// ---------------------------------------------------------------------------------------------
// The Dockerfile, parsed into stages.

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  name: string | undefined;
  image: string;
  workdir: string;
  cmd: string[] | undefined;
  expose: number[];
  instructions: Instruction[];
}

/** Instructions with their continuation lines joined and comments dropped. */
export function instructionsOf(source: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  source.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return;
    if (pending === '') start = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const text = `${pending}${line}`.trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/s.exec(text);
    if (match) out.push({ keyword: match[1]!.toUpperCase(), args: match[2]!, line: start });
  });
  return out;
}

export function stagesOf(source: string): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const expand = (text: string) => text.replace(/\$\{(\w+)\}|\$(\w+)/g, (all, a: string, b: string) => args.get(a ?? b) ?? all);
  for (const instruction of instructionsOf(source)) {
    const stage = stages.at(-1);
    switch (instruction.keyword) {
      case 'ARG': {
        const [name, value] = instruction.args.split('=', 2);
        // Only the global ARGs (before the first FROM) give base images their defaults.
        if (!stage && name && value !== undefined) args.set(name.trim(), value.trim());
        break;
      }
      case 'FROM': {
        const [image, as, name] = instruction.args.split(/\s+/);
        const base = stages.find((s) => s.name === expand(image ?? ''));
        stages.push({
          name: as?.toUpperCase() === 'AS' ? name : undefined,
          image: base ? base.image : expand(image ?? ''),
          workdir: base?.workdir ?? '/',
          cmd: base?.cmd,
          expose: [...(base?.expose ?? [])],
          instructions: [],
        });
        break;
      }
      default:
        assert.ok(stage, `Dockerfile line ${instruction.line}: ${instruction.keyword} before FROM`);
        stage.instructions.push(instruction);
        if (instruction.keyword === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, instruction.args.trim());
        if (instruction.keyword === 'CMD') stage.cmd = JSON.parse(instruction.args) as string[];
        if (instruction.keyword === 'EXPOSE') stage.expose.push(...instruction.args.split(/\s+/).map((p) => Number.parseInt(p, 10)));
    }
  }
  return { args, stages };
}

/** Context paths a stage reads: COPY sources, and cp/find operands in a copy of the context. */
export function contextPathsOf(stages: Stage[]): Array<{ path: string; line: number; how: string }> {
  const paths: Array<{ path: string; line: number; how: string }> = [];
  for (const stage of stages) {
    // Folders of this stage that hold a copy of the whole context (COPY . <dir>).
    const contextCopies = new Set<string>();
    let workdir = '/';
    for (const instruction of stage.instructions) {
      if (instruction.keyword === 'WORKDIR') workdir = posix.resolve(workdir, instruction.args.trim());
      if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
        const words = instruction.args.split(/\s+/).filter((w) => w !== '');
        if (words.some((w) => w.startsWith('--from='))) continue;
        const operands = words.filter((w) => !w.startsWith('--'));
        const destination = posix.resolve(workdir, operands.at(-1) ?? '.');
        for (const source of operands.slice(0, -1)) {
          paths.push({ path: source, line: instruction.line, how: instruction.keyword });
          if (posix.normalize(source) === '.') contextCopies.add(destination);
        }
      }
      if (instruction.keyword === 'RUN') {
        let cwd = workdir;
        for (const command of instruction.args.split(/&&|;(?!\s*$)|\|\|/)) {
          const words = command.trim().split(/\s+/).filter((w) => w !== '');
          if (words[0] === 'cd' && words[1]) cwd = posix.resolve(cwd, words[1]);
          const inContext = [...contextCopies].some((dir) => cwd === dir);
          if (!inContext) continue;
          if (words[0] === 'cp') {
            const operands = words.slice(1).filter((w) => !w.startsWith('-'));
            for (const source of operands.slice(0, -1)) {
              if (/[{}*?]/.test(source)) continue;
              paths.push({ path: source, line: instruction.line, how: 'RUN cp' });
            }
          }
          if (words[0] === 'find') {
            for (const root of words.slice(1)) {
              if (root.startsWith('-') || root.startsWith('(') || root === '!') break;
              paths.push({ path: root, line: instruction.line, how: 'RUN find' });
            }
          }
        }
      }
    }
  }
  return paths;
}

/** The files of a clean clone: what git tracks, not what happens to lie in this checkout. */
function cleanCloneFiles(): Set<string> {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return new Set(out.split('\0').filter((f) => f !== ''));
}

function existsInClone(files: Set<string>, path: string): boolean {
  const normal = posix.normalize(path).replace(/\/+$/, '');
  if (normal === '.') return true;
  if (files.has(normal)) return true;
  const folder = `${normal}/`;
  for (const file of files) if (file.startsWith(folder)) return true;
  return false;
}

/** .dockerignore patterns (Go filepath.Match plus `**`), as the engine applies them. */
export function dockerIgnored(patterns: string[], path: string): boolean {
  let ignored = false;
  const normal = posix.normalize(path).replace(/^\.\//, '').replace(/\/+$/, '');
  for (const raw of patterns) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = posix.normalize((negate ? line.slice(1) : line).replace(/^\//, ''));
    let regex = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === '*' && pattern[i + 1] === '*') {
        regex += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
        i += pattern[i + 2] === '/' ? 2 : 1;
      } else if (c === '*') regex += '[^/]*';
      else if (c === '?') regex += '[^/]';
      else regex += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    // A pattern that matches a folder leaves out everything in it.
    if (new RegExp(`^${regex}(?:/.*)?$`).test(normal)) ignored = !negate;
  }
  return ignored;
}

// ---------------------------------------------------------------------------------------------
// What each app reads and how it starts.

function startScriptOf(app: App): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'apps', app, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  const start = pkg.scripts?.start;
  assert.ok(start, `apps/${app}/package.json has a start script`);
  return start;
}

function sourceFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.includes('node_modules')).map((f) => join(dir, f));
}

/** Default setting names of the shared readers (`readBrokers(env)` reads KAFKA_BROKERS). */
function readerDefaults(): Map<string, string> {
  const source = readFileSync(join(repoRoot, 'packages', 'shared', 'src', 'config.ts'), 'utf8');
  return new Map([...source.matchAll(/function (read\w+)\(env: Env, name = '([A-Z0-9_]+)'/g)].map((m) => [m[1]!, m[2]!]));
}

export interface Settings {
  /** Every setting the app reads. */
  read: Set<string>;
  /** Those without a default (the app stops without them, at least in production). */
  required: Set<string>;
  /** Port settings and their defaults. */
  ports: Map<string, number>;
}

/** The settings an app's env.ts reads, plus what its code and the shared packages read from process.env. */
export function settingsOf(app: App): Settings {
  const appSrc = join(repoRoot, 'apps', app, 'src');
  const envFile = sourceFiles(appSrc).find((f) => basename(f) === 'env.ts');
  assert.ok(envFile, `apps/${app} has an env.ts`);
  const envSource = readFileSync(envFile, 'utf8');
  const defaults = readerDefaults();
  const read = new Set<string>();
  const required = new Set<string>();
  const ports = new Map<string, number>();
  for (const m of envSource.matchAll(/\b(read\w+)\(env(?:,\s*'([A-Z0-9_]+)')?([^)]*)\)/g)) {
    const name = m[2] ?? defaults.get(m[1]!);
    if (!name) continue;
    read.add(name);
    if (m[1] === 'readString' && m[3]!.trim() === '') required.add(name);
    if (m[1] === 'readPort') ports.set(name, Number(/,\s*(\d+)/.exec(m[3]!)?.[1]));
  }
  for (const m of envSource.matchAll(/\benv(?:\.([A-Z0-9_]+)|\[\s*'([A-Z0-9_]+)'\s*\])/g)) read.add(m[1] ?? m[2]!);
  for (const m of envSource.matchAll(/new ConfigError\('([A-Z0-9_]+)',\s*'is required/g)) required.add(m[1]!);
  // Settings read straight from process.env anywhere in the app or the packages it runs with.
  for (const file of [...sourceFiles(appSrc), ...sourceFiles(join(repoRoot, 'packages', 'shared', 'src')), ...sourceFiles(join(repoRoot, 'packages', 'db', 'src'))]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/process\.env(?:\.([A-Z0-9_]+)|\[\s*'([A-Z0-9_]+)'\s*\])/g)) read.add(m[1] ?? m[2]!);
  }
  return { read, required, ports };
}

type Loose = Record<string, unknown>;

function envOf(service: Loose): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((line: string) => line.split(/=(.*)/s).slice(0, 2)));
  return Object.fromEntries(Object.entries(env as Loose).map(([k, v]) => [k, String(v)]));
}

// ---------------------------------------------------------------------------------------------

const dockerfile = readFileSync(dockerfilePath, 'utf8');
const parsed = stagesOf(dockerfile);

test('every path the Dockerfile copies from the context is in a clean clone and not .dockerignored', () => {
  const files = cleanCloneFiles();
  const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n');
  const copied = contextPathsOf(parsed.stages);
  assert.ok(copied.some((c) => c.how === 'RUN cp'), 'the manifests stage copies files with cp');
  const missing = copied.filter((c) => !existsInClone(files, c.path)).map((c) => `line ${c.line}: ${c.how} ${c.path}`);
  assert.deepEqual(missing, [], 'paths the build copies that a clean clone does not have');
  const ignored = copied.filter((c) => c.path !== '.' && dockerIgnored(ignore, c.path)).map((c) => `line ${c.line}: ${c.how} ${c.path}`);
  assert.deepEqual(ignored, [], 'paths the build copies that .dockerignore leaves out of the context');
});

test('the context checks catch a file that is not in the clone, a folder .dockerignore drops, and cp in a context copy', () => {
  const source = dockerfile.replace('cp -r pnpm-lock.yaml', 'cp -r .npmrc pnpm-lock.yaml');
  assert.notEqual(source, dockerfile);
  const paths = contextPathsOf(stagesOf(source).stages).map((c) => c.path);
  assert.ok(paths.includes('.npmrc'));
  assert.equal(existsInClone(cleanCloneFiles(), '.npmrc'), false);
  assert.equal(existsInClone(cleanCloneFiles(), 'patches'), true);
  assert.equal(dockerIgnored(['**/node_modules', '.data'], 'apps/collector/node_modules/x'), true);
  assert.equal(dockerIgnored(['**/node_modules', '.data'], '.data/kafka'), true);
  assert.equal(dockerIgnored(['**/*.log', '!keep.log'], 'keep.log'), false);
  assert.equal(dockerIgnored(['**/node_modules', '.data'], 'patches'), false);
});

test('COPY --from names an earlier stage and the base image is the Node.js major of engines', () => {
  const names: string[] = [];
  for (const stage of parsed.stages) {
    for (const instruction of stage.instructions) {
      const from = /--from=(\S+)/.exec(instruction.args)?.[1];
      if (instruction.keyword === 'COPY' && from) assert.ok(names.includes(from), `line ${instruction.line}: COPY --from=${from} names an earlier stage`);
    }
    if (stage.name) names.push(stage.name);
  }
  const engines = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  const major = /^>=\s*(\d+)/.exec(engines)?.[1];
  assert.ok(major, `engines.node is a lower bound: ${engines}`);
  const images = new Set(parsed.stages.map((s) => s.image));
  assert.deepEqual([...images].filter((image) => image.startsWith('node:')), [`node:${major}-slim`]);
});

test("each app's target runs its package.json start script in the app's folder", () => {
  for (const app of APPS) {
    const targets = parsed.stages.filter((s) => s.workdir === `/app/apps/${app}` && s.cmd);
    assert.equal(targets.length, 1, `one Dockerfile target runs apps/${app}`);
    const [target] = targets;
    assert.equal(target!.name, app, `the target of apps/${app} is named ${app}`);
    assert.equal(target!.cmd!.join(' '), startScriptOf(app).trim().split(/\s+/).join(' '), `${app}: CMD is the start script`);
  }
  // The comparison can fail: a CMD without the processor's V8 flags is not its start script.
  assert.notEqual('node --import tsx src/main.ts', startScriptOf('processor'));
});

test("the compose services use those targets, the settings their apps read, and health checks the image can run", () => {
  const compose = parse(readFileSync(composePath, 'utf8'), { merge: true }) as { services: Record<string, Loose> };
  const stageNames = new Set(parsed.stages.map((s) => s.name));
  assert.equal(compose.services.kafka?.image, `apache/kafka:${KAFKA_VERSION}`, 'compose runs the Kafka version the tests run against');
  assert.equal(compose.services['kafka-init']?.image, compose.services.kafka?.image);
  for (const app of APPS) {
    const service = compose.services[app];
    assert.ok(service, `compose has a ${app} service`);
    const build = service.build as Loose;
    assert.equal(build.dockerfile, 'infra/docker/Dockerfile');
    assert.ok(stageNames.has(build.target as string), `${app}: build target ${String(build.target)} is a Dockerfile stage`);
    assert.equal(service.image, `clickstream/${app}:local`);

    const settings = settingsOf(app);
    const env = envOf(service);
    const unknown = Object.keys(env).filter((name) => name !== 'NODE_ENV' && !settings.read.has(name));
    assert.deepEqual(unknown, [], `${app}: compose sets settings the app does not read`);
    const unset = [...settings.required].filter((name) => !(name in env));
    assert.deepEqual(unset, [], `${app}: compose leaves required settings unset`);

    assert.equal(settings.ports.size, 1, `${app} reads one port setting`);
    const [portSetting, portDefault] = [...settings.ports][0]!;
    const port = Number(env[portSetting] ?? portDefault);
    const stage = parsed.stages.find((s) => s.name === build.target)!;
    assert.ok(stage.expose.includes(port), `${app}: the target EXPOSEs ${portSetting}=${port}`);
    const published = ((service.ports ?? []) as string[]).map((p) => Number(String(p).split(':').at(-1)));
    assert.ok(published.includes(port), `${app}: compose publishes container port ${port}`);

    const check = (service.healthcheck as Loose | undefined)?.test;
    assert.ok(Array.isArray(check), `${app} has a health check in exec form`);
    assert.deepEqual(check.slice(0, 2), ['CMD', 'node'], `${app}: the health check runs node (the slim image has no curl or wget)`);
    const url = /https?:\/\/[^'"\s)]+/.exec(check.join(' '))?.[0];
    assert.ok(url, `${app}: the health check asks a URL`);
    const { port: checkPort, pathname } = new URL(url);
    assert.equal(Number(checkPort), port, `${app}: the health check asks ${portSetting}`);
    const served = sourceFiles(join(repoRoot, 'apps', app, 'src')).some((f) => readFileSync(f, 'utf8').includes(`'${pathname}'`));
    assert.ok(served, `${app} serves ${pathname}`);
  }
});

/** Packages a folder's code loads at run time: value imports and dynamic imports, not `import type`. */
export function runtimeImportsOf(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourceFiles(dir)) {
    const source = readFileSync(file, 'utf8');
    const specifiers = [
      ...[...source.matchAll(/^\s*import\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm)].map((m) => m[1]!),
      ...[...source.matchAll(/^\s*export\s+(?!type\s)[^'";]*?\sfrom\s+'([^']+)'/gm)].map((m) => m[1]!),
      ...[...source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!),
    ];
    for (const specifier of specifiers) {
      if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
      const parts = specifier.split('/');
      const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
      if (!found.has(name)) found.set(name, file.slice(repoRoot.length + 1));
    }
  }
  return found;
}

test('what each service loads at run time is a production dependency (the image installs only those)', () => {
  const missing: string[] = [];
  const check = (dir: string) => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const imports = runtimeImportsOf(join(repoRoot, dir, 'src'));
    for (const [name, file] of imports) {
      if (!pkg.dependencies?.[name]) missing.push(`${file} loads ${name}, which ${dir}/package.json does not list in dependencies`);
    }
    return imports;
  };
  const workspace = new Set<string>();
  for (const app of APPS) {
    for (const name of check(`apps/${app}`).keys()) if (name.startsWith('@clickstream/')) workspace.add(name.slice('@clickstream/'.length));
  }
  assert.ok(workspace.has('shared'), 'the apps load @clickstream/shared');
  for (const pkg of workspace) check(`packages/${pkg}`);
  assert.deepEqual(missing, []);
  // The scan sees value imports and skips type-only ones.
  const dashboard = runtimeImportsOf(join(repoRoot, 'apps', 'dashboard', 'src'));
  assert.ok(dashboard.has('fastify') && !dashboard.has('ws'), 'the dashboard loads fastify; it imports only types from ws');
});

test('the settings parser finds what each env.ts reads', () => {
  const collector = settingsOf('collector');
  for (const name of ['COLLECTOR_PORT', 'KAFKA_BROKERS', 'TOPIC_PREFIX', 'ALLOWED_ORIGINS', 'RATE_LIMIT_PER_MIN']) assert.ok(collector.read.has(name), name);
  assert.equal(collector.ports.get('COLLECTOR_PORT'), 8080);
  const dashboard = settingsOf('dashboard');
  for (const name of ['DATABASE_URL', 'API_TOKEN', 'DASHBOARD_ALLOWED_ORIGINS', 'LIVE_MAX_CLIENTS', 'NODE_ENV']) assert.ok(dashboard.read.has(name), name);
  assert.ok(dashboard.required.has('API_TOKEN'), 'API_TOKEN is required (in production)');
  assert.equal(settingsOf('processor').ports.get('PROCESSOR_METRICS_PORT'), 9464);
  assert.equal(collector.read.has('DATABASE_URL'), false, 'the collector has no database');
});
