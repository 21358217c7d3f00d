/**
 * One shared copy of strings that repeat across keys - page paths, browsers, sources, countries -
 * so held state points at one string instead of each event's own copy. Bounded: clearing the pool
 * only costs sharing, never correctness.
 */
export class StringPool {
  private readonly strings = new Map<string, string>();

  constructor(private readonly limit = 50_000) {}

  share<T extends string | null>(value: T): T {
    if (value === null) return value;
    const shared = this.strings.get(value);
    if (shared !== undefined) return shared as T;
    if (this.strings.size >= this.limit) this.strings.clear();
    this.strings.set(value, value);
    return value;
  }
}

/** The pool of the process: the values it holds are the same whichever operator meets them. */
export const sharedStrings = new StringPool();
