/** One record waiting in the outbox for its Kafka transaction. */
export interface OutboxRecord {
  /** Which output: window results, visits, late events or undecodable inputs. */
  t: 'metrics' | 'sessions' | 'late' | 'invalid';
  k: string | null;
  v: string;
}

/** The output of one checkpoint (or a slice of it), delivered to Kafka in one piece. */
export interface OutboxEntry {
  seq: number;
  records: OutboxRecord[];
}

const OUTBOX_TARGETS = new Set<OutboxRecord['t']>(['metrics', 'sessions', 'late', 'invalid']);

/**
 * One line per record: `target TAB JSON(key) TAB value`. Values are JSON texts, which never hold
 * a raw newline or tab, so they are stored as they are; a JSON array of the records would escape
 * every quote of every value again, and that cost a tenth of a catch-up's CPU.
 */
export function encodeOutboxRecords(records: readonly OutboxRecord[]): string {
  let text = '';
  for (const record of records) {
    // Refused before the commit: a raw newline would split the record when it is read back.
    if (record.v.includes('\n')) throw new Error(`outbox record for ${record.t} holds a raw newline; values must be JSON texts`);
    text += `${record.t}\t${JSON.stringify(record.k)}\t${record.v}\n`;
  }
  return text;
}

export function decodeOutboxRecords(text: string): OutboxRecord[] {
  // Entries written before the line format was introduced are a JSON array.
  if (text.startsWith('[')) return JSON.parse(text) as OutboxRecord[];
  const records: OutboxRecord[] = [];
  let lineStart = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const firstTab = text.indexOf('\t', lineStart);
    const secondTab = text.indexOf('\t', firstTab + 1);
    const target = text.slice(lineStart, firstTab) as OutboxRecord['t'];
    if (firstTab < 0 || secondTab < 0 || secondTab > lineEnd || !OUTBOX_TARGETS.has(target)) {
      throw new Error(`corrupt outbox entry near character ${lineStart}`);
    }
    records.push({ t: target, k: JSON.parse(text.slice(firstTab + 1, secondTab)) as string | null, v: text.slice(secondTab + 1, lineEnd) });
    lineStart = lineEnd + 1;
  }
  return records;
}
