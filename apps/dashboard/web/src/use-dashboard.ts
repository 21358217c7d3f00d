/**
 * The dashboard's data: REST timeline and top users for the chosen site and range, the live
 * feed on top, and the refetches that keep them honest (after live messages, on reconnect, on a
 * timer for long ranges).
 */
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { Api, UnauthorizedError, type TopUser, type TopUsersBy } from './api.js';
import { LiveFeed, type LiveStatus } from './live-feed.js';
import { applyLiveDeletion, applyLiveResult, EMPTY_LIVE_STATE, type LiveDeletion, type LiveState } from './live-state.js';
import { RANGES, rangeBounds, type RangeKey } from './ranges.js';
import type { TimelineWindow } from './timeline.js';
import type { WindowResult } from '@clickstream/shared';

export interface DashboardData {
  timeline: TimelineWindow[] | undefined;
  bounds: { from: number; to: number };
  topUsers: TopUser[] | undefined;
  live: LiveState;
  status: LiveStatus;
  lastUpdated: number | undefined;
  error: string | undefined;
  /** Bumps when a live result for a user arrives, so the drill-down can refetch. */
  liveTick: number;
  lastLiveResult: WindowResult | undefined;
  retryLive: () => void;
}

// Live results arrive in bursts when a window closes for many users; one refetch per burst.
const LIVE_REFETCH_DEBOUNCE_MS = 400;
const LIVE_REFETCH_MIN_INTERVAL_MS = 1500;

export function useDashboard(
  token: string,
  siteId: string,
  range: RangeKey,
  sortBy: TopUsersBy,
  onUnauthorized: () => void,
): DashboardData {
  const api = useMemo(() => new Api(token), [token]);
  const [bounds, setBounds] = useState(() => rangeBounds(range, Date.now()));
  const [timeline, setTimeline] = useState<TimelineWindow[] | undefined>();
  const [topUsers, setTopUsers] = useState<TopUser[] | undefined>();
  const [lastUpdated, setLastUpdated] = useState<number | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [status, setStatus] = useState<LiveStatus>({ state: 'connecting', attempt: 0 });
  const [live, dispatchLive] = useReducer(
    (state: LiveState, action: { result: WindowResult; at: number } | { deleted: LiveDeletion }) =>
      'deleted' in action ? applyLiveDeletion(state, action.deleted) : applyLiveResult(state, action.result, action.at),
    EMPTY_LIVE_STATE,
  );
  const [liveTick, setLiveTick] = useState(0);
  const [lastLiveResult, setLastLiveResult] = useState<WindowResult | undefined>();
  const feed = useRef<LiveFeed | undefined>(undefined);
  const generation = useRef(0);

  const refetch = useCallback(async () => {
    const run = ++generation.current;
    const b = rangeBounds(range, Date.now());
    try {
      const q = { siteId, from: b.from, to: b.to };
      const [windows, users] = await Promise.all([api.timeline(q), api.topUsers({ ...q, by: sortBy, limit: 20 })]);
      if (run !== generation.current) return;
      setBounds(b);
      setTimeline(windows);
      setTopUsers(users);
      setLastUpdated(Date.now());
      setError(undefined);
    } catch (e) {
      if (run !== generation.current) return;
      if (e instanceof UnauthorizedError) onUnauthorized();
      else setError((e as Error).message);
    }
  }, [api, siteId, range, sortBy, onUnauthorized]);

  const refetchRef = useRef(refetch);
  refetchRef.current = refetch;

  // A new site or range starts from a blank chart rather than showing the previous one's data.
  useEffect(() => {
    setTimeline(undefined);
    setTopUsers(undefined);
  }, [siteId, range]);

  useEffect(() => {
    void refetch();
    const { refreshMs } = RANGES[range];
    // Even "live" refreshes now and then: windows slide out of view when nothing new arrives.
    const timer = setInterval(() => void refetchRef.current(), refreshMs || 5000);
    return () => clearInterval(timer);
  }, [refetch, range]);

  const pending = useRef<{ timer?: ReturnType<typeof setTimeout>; last: number }>({ last: 0 });
  const scheduleLiveRefetch = useCallback(() => {
    const p = pending.current;
    if (p.timer) return;
    const wait = Math.max(LIVE_REFETCH_DEBOUNCE_MS, p.last + LIVE_REFETCH_MIN_INTERVAL_MS - Date.now());
    p.timer = setTimeout(() => {
      p.timer = undefined;
      p.last = Date.now();
      void refetchRef.current();
    }, wait);
  }, []);

  const siteRef = useRef(siteId);
  siteRef.current = siteId;
  useEffect(() => {
    const liveFeed = new LiveFeed(token, {
      onResult: (result, at) => {
        dispatchLive({ result, at });
        if (result.siteId !== siteRef.current) return;
        setLastLiveResult(result);
        setLiveTick((n) => n + 1);
        scheduleLiveRefetch();
      },
      onDeleted: (deleted) => {
        dispatchLive({ deleted });
        if (deleted.siteId === siteRef.current) scheduleLiveRefetch();
      },
      onStatus: (s) => {
        setStatus(s);
        if (s.state === 'unauthorized') onUnauthorized();
      },
      onReconnected: () => void refetchRef.current(),
    });
    feed.current = liveFeed;
    liveFeed.start();
    return () => {
      liveFeed.stop();
      clearTimeout(pending.current.timer);
      pending.current.timer = undefined;
    };
  }, [token, scheduleLiveRefetch, onUnauthorized]);

  const retryLive = useCallback(() => feed.current?.retryNow(), []);
  return { timeline, bounds, topUsers, live, status, lastUpdated, error, liveTick, lastLiveResult, retryLive };
}
