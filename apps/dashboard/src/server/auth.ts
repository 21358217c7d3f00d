import { createHash, timingSafeEqual } from 'node:crypto';

/** Longer tokens are refused without hashing them; settings may not configure longer ones. */
export const MAX_TOKEN_LENGTH = 1024;

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/**
 * Token check in constant time. Both sides are hashed first so neither the comparison nor an
 * early length mismatch tells an attacker how close a guess was.
 */
export function tokenMatches(expected: string, given: string | undefined | null): boolean {
  if (typeof given !== 'string' || given.length === 0 || given.length > MAX_TOKEN_LENGTH) return false;
  return timingSafeEqual(sha256(expected), sha256(given));
}

/** What a token may do: `admin` (API_TOKEN) everything; `read` (API_READ_TOKENS) every read. */
export type ApiRole = 'admin' | 'read';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The role a route needs; without it, GET and HEAD need `read` and every other method `admin`. */
    access?: ApiRole;
  }
}

/**
 * The configured tokens, kept as sha-256 digests. A check hashes the given token once and
 * compares it with every digest, without stopping at a match, so the time it takes tells nothing
 * about whether or which token matched.
 */
export class ApiTokens {
  private readonly digests: ReadonlyArray<{ digest: Buffer; role: ApiRole }>;

  constructor(adminToken: string, readTokens: readonly string[] = []) {
    this.digests = [
      { digest: sha256(adminToken), role: 'admin' as const },
      ...readTokens.map((token) => ({ digest: sha256(token), role: 'read' as const })),
    ];
  }

  roleOf(given: string | undefined | null): ApiRole | undefined {
    if (typeof given !== 'string' || given.length === 0 || given.length > MAX_TOKEN_LENGTH) return undefined;
    const digest = sha256(given);
    let role: ApiRole | undefined;
    for (const entry of this.digests) {
      const match = timingSafeEqual(entry.digest, digest);
      role = match && role === undefined ? entry.role : role;
    }
    return role;
  }
}

/**
 * Whether `role` may call a route. Unknown routes (no pattern) are let through to their 404, so a
 * read token learns nothing it could not learn anyway.
 */
export function mayAccess(role: ApiRole, method: string, route: { url?: string | undefined; config?: { access?: ApiRole } | undefined }): boolean {
  if (role === 'admin' || route.url === undefined) return true;
  const needed = route.config?.access ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'admin');
  return needed === 'read';
}

/** The token of an `Authorization: Bearer <token>` header, if that is what the header holds. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Whether a browser page from `origin` may open the live feed: its own origin (same host as the
 * request) or one of the configured ones. Clients that send no Origin (scripts, curl) are not
 * browsers a page could abuse, so only the token guards them.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (host !== undefined && url.host.toLowerCase() === host.toLowerCase()) return true;
  return allowed.includes(url.origin);
}
