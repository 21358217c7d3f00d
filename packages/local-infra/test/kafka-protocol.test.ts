/**
 * kafkajs 2.2.4 against the broker the tests run (Apache Kafka 4.x): for every API the platform
 * uses, the version kafkajs picks must be one the broker serves. kafkajs picks
 * min(its newest, the broker's newest) and never looks at the broker's oldest, so a broker that
 * drops old protocol versions (Kafka 4 did, KIP-896) fails only at the first such request, deep in
 * a test; this names the API instead.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { testBrokers } from '../src/testing.js';

const require = createRequire(import.meta.url);

interface VersionRange {
  minVersion: number;
  maxVersion: number;
}

/** What the collector, processor, dashboard, tests and scripts send. */
const USED_APIS = [
  'ApiVersions',
  'Metadata',
  'Produce',
  'Fetch',
  'ListOffsets',
  'GroupCoordinator',
  'JoinGroup',
  'SyncGroup',
  'Heartbeat',
  'LeaveGroup',
  'OffsetCommit',
  'OffsetFetch',
  'InitProducerId',
  'AddPartitionsToTxn',
  'AddOffsetsToTxn',
  'TxnOffsetCommit',
  'EndTxn',
  'CreateTopics',
  'DeleteTopics',
  'CreatePartitions',
  'DescribeConfigs',
  'AlterConfigs',
] as const;

test('every Kafka API the platform uses has a version kafkajs picks and the broker serves', async () => {
  const Cluster = require('kafkajs/src/cluster');
  const { createLogger } = require('kafkajs/src/loggers');
  const socketFactory = require('kafkajs/src/network/socketFactory')();
  const { requests } = require('kafkajs/src/protocol/requests') as { requests: Record<string, { versions: string[] }> };
  const apiKeys = require('kafkajs/src/protocol/requests/apiKeys') as Record<string, number>;

  const cluster = new Cluster({
    logger: createLogger({ level: 0, logCreator: () => () => {} }),
    socketFactory,
    brokers: testBrokers(),
    clientId: 'protocol-check',
    connectionTimeout: 5000,
    requestTimeout: 10_000,
    retry: { retries: 2 },
  });
  await cluster.connect();
  try {
    const served = cluster.brokerPool.versions as Record<number, VersionRange | undefined>;
    const problems: string[] = [];
    const table: string[] = [];
    for (const api of USED_APIS) {
      const implemented = requests[api]!.versions.map(Number);
      assert.ok(implemented.length > 0, `kafkajs implements ${api}`);
      const range = served[apiKeys[api]!];
      if (!range) {
        problems.push(`${api}: the broker does not serve it`);
        continue;
      }
      // kafkajs' own rule (protocol/requests/index.js lookup).
      const picked = Math.min(Math.max(...implemented), range.maxVersion);
      table.push(`${api} v${picked} (broker ${range.minVersion}-${range.maxVersion})`);
      if (picked < range.minVersion || !implemented.includes(picked)) {
        problems.push(`${api}: kafkajs would send v${picked}, the broker serves v${range.minVersion}-${range.maxVersion}`);
      }
    }
    assert.deepEqual(problems, [], table.join('\n'));
    assert.equal(table.length, USED_APIS.length);
  } finally {
    await cluster.disconnect();
  }
});
