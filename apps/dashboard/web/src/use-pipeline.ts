/** GET /api/v1/pipeline, polled: every `intervalMs` after the previous answer (never two at once). */
import { useEffect, useRef, useState } from 'react';
import { UnauthorizedError } from './api.js';
import { fetchPipeline, type Pipeline } from './stats-api.js';

export interface PipelineState {
  pipeline: Pipeline | undefined;
  /** When the shown answer arrived. */
  receivedAt: number | undefined;
  error: string | undefined;
}

export function usePipeline(token: string, intervalMs: number, onUnauthorized: () => void): PipelineState {
  const [state, setState] = useState<PipelineState>({ pipeline: undefined, receivedAt: undefined, error: undefined });
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const poll = async () => {
      try {
        const pipeline = await fetchPipeline(token, controller.signal);
        if (!stopped) setState({ pipeline, receivedAt: Date.now(), error: undefined });
      } catch (error) {
        if (stopped) return;
        if (error instanceof UnauthorizedError) return unauthorized.current();
        setState((s) => ({ ...s, error: (error as Error).message }));
      }
      if (!stopped) timer = setTimeout(() => void poll(), intervalMs);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
    };
  }, [token, intervalMs]);

  return state;
}
