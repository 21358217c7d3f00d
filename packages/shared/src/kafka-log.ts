/**
 * A kafkajs logCreator (kafkajs' own types, restated so this package needs no kafkajs): one
 * plain line per warning or error, tagged with the service name. kafkajs logs every retried
 * broker response at ERROR level - "coordinator is loading", "not the leader" - which clients
 * retry by design; those become debug noise and are dropped unless KAFKAJS_DEBUG is set.
 */
const RETRIED_RESPONSES = /^\[Connection\] Response |^\[BrokerPool\]|Broker not connected|Closed connection/;
// Our transactional producers are thrown away and re-fenced after any failed send, so bounded
// retries cannot break exactly-once; the warning kafkajs prints for them is noise here.
const KNOWN_SAFE = /Limiting retries for the idempotent producer/;

interface KafkaLogEntry {
  namespace: string;
  level: number;
  label: string;
  log: { message: string; error?: string; [key: string]: unknown };
}

export function kafkaLogCreator(service: string, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {
  const verbose = typeof process !== 'undefined' && Boolean(process.env.KAFKAJS_DEBUG);
  return (_level: number) =>
    ({ namespace, label, log }: KafkaLogEntry) => {
      if (!verbose && (RETRIED_RESPONSES.test(`[${namespace}] ${log.message}`) || KNOWN_SAFE.test(log.message))) return;
      const detail = log.error ? `: ${log.error}` : '';
      write(`[${service}] kafka ${label.toLowerCase()} ${namespace ? `${namespace} ` : ''}${log.message}${detail}`);
    };
}
