/** One user's windows in the selected range: totals, a chart and the raw windows. */
import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import type { WindowResult } from '@clickstream/shared';
import { UnauthorizedError, type Api } from './api.js';
import { formatClock, formatCount, formatDuration } from './format.js';

const UserChart = lazy(() => import('./UserChart.js'));

export function UserDetail({
  api,
  userId,
  siteId,
  bounds,
  liveTick,
  onClose,
  onUnauthorized,
}: {
  api: Api;
  userId: string;
  siteId: string;
  bounds: { from: number; to: number };
  liveTick: number;
  onClose: () => void;
  onUnauthorized: () => void;
}) {
  const [windows, setWindows] = useState<WindowResult[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => setWindows(undefined), [userId, siteId]);
  // Opened from a table further down: bring the details into view and move focus there.
  useEffect(() => {
    heading.current?.scrollIntoView({ block: 'start', behavior: 'smooth' });
    heading.current?.focus({ preventScroll: true });
  }, [userId]);
  useEffect(() => {
    const controller = new AbortController();
    api
      .userMetrics(userId, { siteId, from: bounds.from, to: Date.now() + 5000 }, controller.signal)
      .then((w) => {
        setWindows(w);
        setError(undefined);
      })
      .catch((e: Error) => {
        if (controller.signal.aborted) return;
        if (e instanceof UnauthorizedError) onUnauthorized();
        else setError(e.message);
      });
    return () => controller.abort();
  }, [api, userId, siteId, bounds.from, liveTick, onUnauthorized]);

  const total = (field: 'events' | 'clicks' | 'pageViews' | 'engagedMs' | 'uniquePages') => (windows ?? []).reduce((sum, w) => sum + w[field], 0);
  return (
    <section className="card detail" aria-labelledby="detail-title" data-testid="user-detail">
      <div className="detail-head">
        <h2 id="detail-title" ref={heading} tabIndex={-1}>
          User <span className="user-id">{userId}</span>
        </h2>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      {windows === undefined && !error && <p className="muted">Loading…</p>}
      {windows && (
        <>
          <dl className="kpis small">
            <div><dt>Active windows</dt><dd>{formatCount(windows.length)}</dd></div>
            <div><dt>Events</dt><dd data-testid="user-events">{formatCount(total('events'))}</dd></div>
            <div><dt>Clicks</dt><dd data-testid="user-clicks">{formatCount(total('clicks'))}</dd></div>
            <div><dt>Page views</dt><dd>{formatCount(total('pageViews'))}</dd></div>
            <div><dt>Engaged</dt><dd>{formatDuration(total('engagedMs'))}</dd></div>
            <div><dt>Most sessions in a window</dt><dd>{Math.max(0, ...windows.map((w) => w.sessions))}</dd></div>
          </dl>
          {windows.length > 0 && (
            <Suspense fallback={<div className="chart-body muted">Loading chart…</div>}>
              <UserChart points={windows.map((w) => ({ t: Date.parse(w.windowStart), events: w.events, clicks: w.clicks }))} />
            </Suspense>
          )}
          <div className="table-scroll detail-windows">
            <table>
              <caption className="visually-hidden">Windows of this user, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Window</th>
                  <th scope="col" className="num">Events</th>
                  <th scope="col" className="num">Clicks</th>
                  <th scope="col" className="num">Page views</th>
                  <th scope="col" className="num">Pages</th>
                  <th scope="col" className="num">Sessions</th>
                  <th scope="col" className="num">Engaged</th>
                  <th scope="col" className="num">Revision</th>
                </tr>
              </thead>
              <tbody>
                {windows.length === 0 && (
                  <tr>
                    <td colSpan={8} className="muted">No windows for this user in the range.</td>
                  </tr>
                )}
                {[...windows].reverse().map((w) => (
                  <tr key={w.windowStart}>
                    <td>{formatClock(Date.parse(w.windowStart))}</td>
                    <td className="num">{w.events}</td>
                    <td className="num">{w.clicks}</td>
                    <td className="num">{w.pageViews}</td>
                    <td className="num">{w.uniquePages}</td>
                    <td className="num">{w.sessions}</td>
                    <td className="num">{formatDuration(w.engagedMs)}</td>
                    <td className="num">{w.revision}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
