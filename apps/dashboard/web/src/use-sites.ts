/** GET /api/v1/sites, refreshed every 30 s so a site that starts sending appears in the picker. */
import { useEffect, useRef, useState } from 'react';
import { UnauthorizedError } from './api.js';
import { fetchSites, type SiteEntry } from './stats-api.js';

const REFRESH_MS = 30_000;
/** While the chosen site is not listed, look more often: its first visit should show up at once. */
const EMPTY_REFRESH_MS = 3000;

export function useSites(token: string, siteId: string, onUnauthorized: () => void): { sites: SiteEntry[] | undefined; error: string | undefined } {
  const [state, setState] = useState<{ sites: SiteEntry[] | undefined; error: string | undefined }>({ sites: undefined, error: undefined });
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;
  const site = useRef(siteId);
  site.current = siteId;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const load = async () => {
      let next = REFRESH_MS;
      try {
        const sites = await fetchSites(token, controller.signal);
        if (stopped) return;
        setState({ sites, error: undefined });
        if (!sites.some((s) => s.siteId === site.current)) next = EMPTY_REFRESH_MS;
      } catch (error) {
        if (stopped) return;
        if (error instanceof UnauthorizedError) return unauthorized.current();
        setState((s) => ({ ...s, error: (error as Error).message }));
        next = EMPTY_REFRESH_MS;
      }
      timer = setTimeout(() => void load(), next);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
    };
  }, [token]);
  return state;
}
