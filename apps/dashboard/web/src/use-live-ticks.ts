/**
 * The live feed, reduced to what the overview needs: a counter that bumps whenever results of the
 * site are committed (time to refresh the figures), and the connection's state for the header.
 */
import { useEffect, useRef, useState } from 'react';
import { LiveFeed, type LiveStatus } from './live-feed.js';
import type { LiveReport } from './UsersView.js';

export function useLiveTicks(token: string, siteId: string, onUnauthorized: () => void): LiveReport & { tick: number } {
  const [tick, setTick] = useState(0);
  const [status, setStatus] = useState<LiveStatus>({ state: 'connecting', attempt: 0 });
  const [lastUpdated, setLastUpdated] = useState<number | undefined>();
  const feed = useRef<LiveFeed | undefined>(undefined);
  const site = useRef(siteId);
  site.current = siteId;
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  useEffect(() => {
    const liveFeed = new LiveFeed(token, {
      onResult: (result, at) => {
        if (result.siteId !== site.current) return;
        setLastUpdated(at);
        setTick((n) => n + 1);
      },
      onStatus: (s) => {
        setStatus(s);
        if (s.state === 'unauthorized') unauthorized.current();
      },
      onReconnected: () => setTick((n) => n + 1),
    });
    feed.current = liveFeed;
    liveFeed.start();
    return () => liveFeed.stop();
  }, [token]);

  const [retry] = useState(() => () => feed.current?.retryNow());
  return { tick, status, lastUpdated, retry };
}
