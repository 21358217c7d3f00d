import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProcessorMetrics } from '../src/metrics.js';

test('dropped engaged time is counted in milliseconds and exported in seconds', async () => {
  const metrics = createProcessorMetrics();
  metrics.droppedEngagedMs.inc(1500);
  metrics.droppedEngagedMs.inc(250);
  const text = await metrics.registry.metrics();
  assert.match(text, /^clickstream_processor_dropped_engaged_seconds_total 1\.75$/m);
  assert.doesNotMatch(text, /milliseconds/);
});

test('checkpoint failures are a counter on /metrics', async () => {
  const metrics = createProcessorMetrics();
  metrics.checkpointFailures.inc();
  assert.match(await metrics.registry.metrics(), /^# TYPE clickstream_processor_checkpoint_failures_total counter\nclickstream_processor_checkpoint_failures_total 1$/m);
});
