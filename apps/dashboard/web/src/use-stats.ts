/**
 * One POST /api/v1/query, rerun when the query changes or `refresh` bumps. The previous answer
 * stays on screen while a refresh runs (no flicker); a changed query blanks it. An answer that
 * arrives after a newer request started is dropped.
 */
import { useEffect, useRef, useState } from 'react';
import { UnauthorizedError } from './api.js';
import { queryStats, type StatsAnswer, type StatsQuery } from './stats-api.js';

export interface StatsResult {
  answer: StatsAnswer | undefined;
  error: string | undefined;
  loading: boolean;
}

export function useStats(token: string, query: StatsQuery | undefined, refresh: number, onUnauthorized: () => void): StatsResult {
  const key = query ? JSON.stringify(query) : '';
  const [state, setState] = useState<StatsResult & { key: string }>({ key, answer: undefined, error: undefined, loading: query !== undefined });
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  useEffect(() => {
    if (!query) {
      setState({ key, answer: undefined, error: undefined, loading: false });
      return;
    }
    const controller = new AbortController();
    setState((s) => (s.key === key ? { ...s, loading: true } : { key, answer: undefined, error: undefined, loading: true }));
    queryStats(token, query, controller.signal).then(
      (answer) => setState({ key, answer, error: undefined, loading: false }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof UnauthorizedError) return unauthorized.current();
        setState((s) => ({ ...s, key, error: (error as Error).message, loading: false }));
      },
    );
    return () => controller.abort();
    // `key` stands for `query`: a new object with the same content is the same query.
  }, [token, key, refresh]);

  return state.key === key ? state : { answer: undefined, error: undefined, loading: query !== undefined };
}
