/**
 * Country from the client address: the lookup itself (bundled public-domain data), TRUST_PROXY
 * parsing, and through app.inject() against the real broker, which address the country comes
 * from under each TRUST_PROXY form; the record on website-clicks has the country and never the
 * address.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { collectTopic, testScope, waitFor } from '@clickstream/local-infra/testing';
import { ConfigError, EnrichedEventSchema } from '@clickstream/shared';
import { Value } from '@sinclair/typebox/value';
import { bundledCountryLookup, CountryLookup } from '../src/country.js';
import { parseCollectorConfig, readTrustProxy } from '../src/env.js';
import { pageView, startTestCollector } from './helpers.js';

const json = { 'content-type': 'application/json' };

// Long-standing allocations: Deutsche Telekom (AS3320) and AT&T (AS7018), IPv4 and IPv6.
const TELEKOM_V4 = '91.40.2.3';
const TELEKOM_V4_OTHER = '80.130.1.1';
const TELEKOM_V6 = '2003:e0::1';
const ATT_V4 = '12.0.0.1';

describe('country lookup', () => {
  const countries = bundledCountryLookup();

  test('public addresses of a German and a US provider give DE and US, IPv4, IPv6 and IPv4-mapped', () => {
    assert.equal(countries.country(TELEKOM_V4), 'DE');
    assert.equal(countries.country(TELEKOM_V4_OTHER), 'DE');
    assert.equal(countries.country(TELEKOM_V6), 'DE');
    assert.equal(countries.country('2003:E0:0:0:0:0:0:1'), 'DE');
    assert.equal(countries.country(ATT_V4), 'US');
    // Node reports IPv4 clients of a dual-stack socket like this.
    assert.equal(countries.country(`::ffff:${TELEKOM_V4}`), 'DE');
    assert.equal(countries.country('::ffff:5b28:203'), 'DE', 'mapped, hexadecimal form');
  });

  test('loopback, private, shared, link-local, documentation and reserved addresses give null', () => {
    for (const address of [
      '127.0.0.1', '::1', '::ffff:127.0.0.1', '10.1.2.3', '172.16.5.4', '192.168.1.1', '100.64.0.1', '169.254.1.1',
      '203.0.113.9', '198.51.100.7', '192.0.2.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
      'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456::1', '2001:db8::1', 'ff02::1', '::', '::ffff:10.0.0.1',
    ]) {
      assert.equal(countries.country(address), null, address);
    }
  });

  test('what is not an address gives null', () => {
    for (const address of [undefined, '', 'unknown', '1.2.3.4:80', '[2003:e0::1]', '91.40.2', 'not-an-ip']) {
      assert.equal(countries.country(address), null, String(address));
    }
  });

  test('a file that is not a country database is refused when opened', () => {
    assert.throws(() => new CountryLookup(Buffer.from('not an mmdb file')));
    assert.ok(countries.builtAt.getTime() > Date.UTC(2020, 0, 1), 'the data says when it was built');
  });
});

describe('TRUST_PROXY', () => {
  test('false by default; booleans, hop counts and proxy address lists as Fastify takes them', () => {
    assert.equal(parseCollectorConfig({}).trustProxy, false);
    const cases: Array<[string, unknown]> = [
      ['true', true], ['TRUE', true], ['yes', true], ['on', true],
      ['false', false], ['no', false], ['off', false], ['0', false],
      ['1', 1], ['2', 2],
      ['10.0.0.0/8', ['10.0.0.0/8']],
      [' 10.0.0.0/8 , 127.0.0.1,fd00::/8 ', ['10.0.0.0/8', '127.0.0.1', 'fd00::/8']],
      ['Loopback,uniquelocal', ['loopback', 'uniquelocal']],
      ['10.0.0.0/255.0.0.0', ['10.0.0.0/255.0.0.0']],
    ];
    for (const [raw, expected] of cases) assert.deepEqual(readTrustProxy({ TRUST_PROXY: raw }), expected, raw);
  });

  test('a bad value stops the start with an error naming TRUST_PROXY', () => {
    for (const raw of ['maybe', '10.0.0.0/33', 'fd00::/129', '1.2.3', '10.0.0.1,', 'proxy.example', '-1', '101']) {
      assert.throws(
        () => parseCollectorConfig({ TRUST_PROXY: raw }),
        (e: unknown) => e instanceof ConfigError && e.setting === 'TRUST_PROXY' && /TRUST_PROXY/.test(e.message),
        raw,
      );
    }
  });
});

describe('country on website-clicks, and which address it comes from', () => {
  /**
   * Posts one event per case to a collector with the given TRUST_PROXY and returns the records
   * as written to website-clicks, in case order.
   */
  async function produced(
    context: Parameters<typeof testScope>[0],
    trustProxy: string | undefined,
    cases: Array<{ forwardedFor?: string; remoteAddress?: string }>,
  ): Promise<Array<{ raw: string; record: Record<string, unknown> }>> {
    const t = testScope(context);
    const { app, topics } = await startTestCollector(t, trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy });
    const { messages } = await collectTopic(t, topics.clicks);
    const events = cases.map(() => pageView());
    for (const [i, c] of cases.entries()) {
      const headers: Record<string, string> = { ...json, ...(c.forwardedFor ? { 'x-forwarded-for': c.forwardedFor } : {}) };
      const response = await app.inject({ method: 'POST', url: '/v1/events', headers, payload: events[i], ...(c.remoteAddress ? { remoteAddress: c.remoteAddress } : {}) });
      assert.equal(response.statusCode, 202, response.body);
    }
    return waitFor(
      'every event on website-clicks',
      async () => {
        const found = events.map((e) => messages.find((m) => m.value?.includes(e.id)));
        return found.every(Boolean) && found.map((m) => ({ raw: m!.value!, record: JSON.parse(m!.value!) as Record<string, unknown> }));
      },
      { timeoutMs: 15_000 },
    );
  }

  /** The record follows the schema, has the country, and no trace of any address involved. */
  function assertNoAddress(raw: string, addresses: string[]): void {
    for (const address of addresses) assert.ok(!raw.includes(address), `${address} in ${raw}`);
    assert.ok(!/\b(ip|address|remoteAddress|forwardedFor)\b/i.test(Object.keys(JSON.parse(raw)).join(' ')), raw);
  }

  test('without TRUST_PROXY, X-Forwarded-For is ignored: the socket address decides', async (context) => {
    const records = await produced(context, undefined, [
      { forwardedFor: TELEKOM_V4 }, // from 127.0.0.1, light-my-request's default peer
      { remoteAddress: TELEKOM_V4 },
      { remoteAddress: ATT_V4, forwardedFor: TELEKOM_V4 },
    ]);
    assert.deepEqual(records.map((r) => r.record.country), [null, 'DE', 'US']);
    for (const { raw, record } of records) {
      assert.ok(Value.Check(EnrichedEventSchema, record), raw);
      assert.ok('country' in record);
      assertNoAddress(raw, [TELEKOM_V4, ATT_V4, '127.0.0.1']);
    }
  });

  test('TRUST_PROXY=true: the left-most X-Forwarded-For entry decides', async (context) => {
    const records = await produced(context, 'true', [{ forwardedFor: TELEKOM_V4 }, { forwardedFor: `${ATT_V4}, ${TELEKOM_V4}` }, { forwardedFor: '10.0.0.7' }, {}]);
    assert.deepEqual(records.map((r) => r.record.country), ['DE', 'US', null, null]);
    for (const { raw, record } of records) {
      assert.ok(Value.Check(EnrichedEventSchema, record), raw);
      assertNoAddress(raw, [TELEKOM_V4, ATT_V4, '10.0.0.7', '127.0.0.1']);
    }
  });

  test('TRUST_PROXY=1 trusts one proxy: the entry it appended decides, not what the client sent', async (context) => {
    const records = await produced(context, '1', [{ forwardedFor: `${ATT_V4}, ${TELEKOM_V4}` }, { forwardedFor: TELEKOM_V6 }]);
    assert.deepEqual(records.map((r) => r.record.country), ['DE', 'DE']);
    for (const { raw } of records) assertNoAddress(raw, [TELEKOM_V4, ATT_V4, TELEKOM_V6]);
  });

  test('TRUST_PROXY as an address list: only a listed peer is believed', async (context) => {
    const records = await produced(context, '127.0.0.1/32', [{ forwardedFor: TELEKOM_V4 }, { remoteAddress: ATT_V4, forwardedFor: TELEKOM_V4 }]);
    // From 127.0.0.1 (listed) the header counts; from a public peer (not listed) it does not.
    assert.deepEqual(records.map((r) => r.record.country), ['DE', 'US']);
  });
});
