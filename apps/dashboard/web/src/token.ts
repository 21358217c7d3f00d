/**
 * The API token: `npm start` prints the dashboard URL as `/?token=...`. The token moves into
 * localStorage and out of the address bar as the page loads (history.replaceState), so it is not
 * left in history, bookmarks or screenshots; the server answers with `Referrer-Policy: no-referrer`
 * and index.html says the same, so the URL never travels in a Referer either.
 */
const STORAGE_KEY = 'clickstream.apiToken';

/** The parts of `window` used here, declared so tests can hand in their own. */
export interface TokenEnv {
  location: { href: string };
  history: { state: unknown; replaceState(data: unknown, unused: string, url?: string | null): void };
  localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void };
}

// In a browser the global object is the window.
const browser = (): TokenEnv => globalThis as unknown as TokenEnv;

export function takeTokenFromUrl(env: TokenEnv = browser()): string | undefined {
  const url = new URL(env.location.href);
  const token = url.searchParams.get('token');
  if (token === null) return undefined;
  url.searchParams.delete('token');
  env.history.replaceState(env.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  return token.trim() || undefined;
}

// Where storage is refused (some private modes), the token lives in memory for this tab.
let inMemory: string | undefined;

export function loadToken(env: TokenEnv = browser()): string | undefined {
  try {
    return env.localStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return inMemory;
  }
}

export function saveToken(token: string | undefined, env: TokenEnv = browser()): void {
  inMemory = token;
  try {
    if (token) env.localStorage.setItem(STORAGE_KEY, token);
    else env.localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Private mode without storage: the token lives for this tab only.
  }
}

/** Moves a `?token=` from the URL into storage; main.tsx calls it before the first render. */
export function adoptTokenFromUrl(env: TokenEnv = browser()): void {
  const fromUrl = takeTokenFromUrl(env);
  if (fromUrl) saveToken(fromUrl, env);
}

export function initialToken(env: TokenEnv = browser()): string | undefined {
  adoptTokenFromUrl(env);
  return loadToken(env);
}
