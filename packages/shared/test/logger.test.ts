/**
 * createLogger: the one log format (JSON lines with level, time, service, msg), LOG_LEVEL and
 * LOG_FORMAT with errors that name them, the pretty format for terminals, and the masking of
 * credentials and client addresses.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../src/config.js';
import { createLogger, readLogFormat, readLogLevel, redactUrl, type LogLevel } from '../src/logger.js';

const loggerModule = join(import.meta.dirname, '..', 'src', 'logger.ts');

function captured(service: string, options: { env?: Record<string, string>; level?: LogLevel } = {}) {
  const chunks: string[] = [];
  const logger = createLogger(service, { ...options, destination: { write: (chunk: string) => void chunks.push(chunk) } });
  return { logger, text: () => chunks.join(''), lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('a line is JSON with level, time, service and msg, plus the fields given', () => {
  const { logger, lines } = captured('collector');
  logger.info({ events: 3 }, 'listening on http://127.0.0.1:8080');
  logger.child({ reqId: 'req-1' }).warn('slow');
  const [first, second] = lines();
  assert.equal(first!.level, 'info');
  assert.equal(first!.service, 'collector');
  assert.equal(first!.msg, 'listening on http://127.0.0.1:8080');
  assert.equal(first!.events, 3);
  assert.ok(!Number.isNaN(Date.parse(first!.time as string)), String(first!.time));
  assert.equal(second!.level, 'warn');
  assert.equal(second!.reqId, 'req-1');
  assert.equal(second!.service, 'collector');
});

test('LOG_LEVEL: info by default, any pino level, and an error naming it otherwise', () => {
  assert.equal(readLogLevel({}), 'info');
  assert.equal(readLogLevel({ LOG_LEVEL: ' DEBUG ' }), 'debug');
  assert.equal(readLogLevel({ LOG_LEVEL: 'silent' }), 'silent');
  assert.throws(() => readLogLevel({ LOG_LEVEL: 'loud' }), (e: unknown) => e instanceof ConfigError && e.setting === 'LOG_LEVEL' && /LOG_LEVEL/.test(e.message));
  assert.throws(() => createLogger('x', { env: { LOG_LEVEL: 'verbose' } }), /LOG_LEVEL/);

  const { logger, lines } = captured('dashboard', { env: { LOG_LEVEL: 'warn' } });
  logger.info('not shown');
  logger.debug('not shown either');
  logger.error('shown');
  assert.deepEqual(lines().map((l) => l.msg), ['shown']);
});

test('LOG_FORMAT: pretty on a terminal unless json is asked for, json otherwise; an error naming it', () => {
  assert.equal(readLogFormat({}, true), 'pretty');
  assert.equal(readLogFormat({}, false), 'json');
  assert.equal(readLogFormat({ LOG_FORMAT: 'json' }, true), 'json');
  assert.equal(readLogFormat({ LOG_FORMAT: 'Pretty' }, false), 'pretty');
  assert.throws(() => readLogFormat({ LOG_FORMAT: 'xml' }, false), (e: unknown) => e instanceof ConfigError && e.setting === 'LOG_FORMAT');
});

test('LOG_FORMAT=pretty writes readable lines on stdout; unset on a pipe, JSON lines', () => {
  const script = `import { createLogger } from ${JSON.stringify(loggerModule)};
    const log = createLogger('collector');
    log.info({ req: { method: 'GET', url: '/x?token=abc' } }, 'hello there');
    log.warn('careful');`;
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, LOG_FORMAT: '', LOG_LEVEL: '', ...env }, encoding: 'utf8' });

  const pretty = run({ LOG_FORMAT: 'pretty', NO_COLOR: '1' });
  assert.equal(pretty.status, 0, pretty.stderr);
  const prettyLines = pretty.stdout.trim().split('\n');
  assert.equal(prettyLines.length, 2, pretty.stdout);
  assert.match(prettyLines[0]!, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hello there /);
  assert.match(prettyLines[1]!, /WARN: careful$/);
  assert.ok(!pretty.stdout.includes('token=abc'), pretty.stdout);
  assert.ok(!pretty.stdout.includes('\u001b['), 'NO_COLOR: no escape codes');

  const coloured = run({ LOG_FORMAT: 'pretty' });
  assert.ok(coloured.stdout.includes('\u001b['), 'colours by default');

  const json = run({});
  assert.equal(json.status, 0, json.stderr);
  const parsed = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(parsed.map((l) => [l.level, l.service, l.msg]), [['info', 'collector', 'hello there'], ['warn', 'collector', 'careful']]);
});

test('credential-like query parameters are masked in URLs, whatever their spelling', () => {
  assert.equal(redactUrl('/api/v1/live?token=abc'), '/api/v1/live?token=[redacted]');
  assert.equal(redactUrl('/api/v1/live?since=5&token=abc&x=1'), '/api/v1/live?since=5&token=[redacted]&x=1');
  assert.equal(redactUrl('/a?%74oken=abc'), '/a?%74oken=[redacted]', 'percent-encoded key');
  assert.equal(redactUrl('/a?TOKEN=abc&access_token=def&api_key=ghi&password=jkl#frag'), '/a?TOKEN=[redacted]&access_token=[redacted]&api_key=[redacted]&password=[redacted]#frag');
  assert.equal(redactUrl('/a?token'), '/a?token=[redacted]');
  assert.equal(redactUrl('/api/v1/metrics/timeline?siteId=shop&from=1'), '/api/v1/metrics/timeline?siteId=shop&from=1');
  assert.equal(redactUrl('/plain'), '/plain');
  assert.equal(redactUrl('/a?%E0%A4%A=1'), '/a?%E0%A4%A=1', 'a malformed escape is kept, not thrown on');
});

test('requests keep method and masked URL only: no headers, no client address; header paths are redacted anywhere', () => {
  const { logger, text, lines } = captured('dashboard');
  const request = {
    method: 'GET',
    url: '/api/v1/live?token=abc-secret',
    headers: { authorization: 'Bearer secret-token-123', cookie: 'sid=cookie-secret', 'x-forwarded-for': '203.0.113.9' },
    ip: '203.0.113.9',
    socket: { remoteAddress: '198.51.100.4' },
  };
  logger.info({ req: request, res: { statusCode: 401, headers: { 'set-cookie': 'x' } } }, 'request completed');
  logger.warn({ headers: request.headers }, 'someone logged headers');
  const [line, headers] = lines();
  assert.deepEqual(line!.req, { method: 'GET', url: '/api/v1/live?token=[redacted]' });
  assert.deepEqual(line!.res, { statusCode: 401 });
  assert.deepEqual(headers!.headers, { authorization: '[redacted]', cookie: '[redacted]', 'x-forwarded-for': '[redacted]' });
  for (const secret of ['abc-secret', 'secret-token-123', 'cookie-secret', '203.0.113.9', '198.51.100.4']) {
    assert.ok(!text().includes(secret), `${secret} in ${text()}`);
  }
});
