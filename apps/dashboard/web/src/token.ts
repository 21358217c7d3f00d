/**
 * The API token: `npm start` prints the dashboard URL as `/?token=...`. The token moves into
 * localStorage and out of the address bar at once, so it is not left in history or screenshots.
 */
const STORAGE_KEY = 'clickstream.apiToken';

export function takeTokenFromUrl(): string | undefined {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (token === null) return undefined;
  url.searchParams.delete('token');
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  return token.trim() || undefined;
}

export function loadToken(): string | undefined {
  try {
    return window.localStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function saveToken(token: string | undefined): void {
  try {
    if (token) window.localStorage.setItem(STORAGE_KEY, token);
    else window.localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Private mode without storage: the token lives for this tab only.
  }
}

export function initialToken(): string | undefined {
  const fromUrl = takeTokenFromUrl();
  if (fromUrl) saveToken(fromUrl);
  return fromUrl ?? loadToken();
}
