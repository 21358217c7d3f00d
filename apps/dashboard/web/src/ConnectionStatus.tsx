/** Says exactly what the live feed is doing, including when the next reconnect happens. */
import { useEffect, useState } from 'react';
import { formatAgo } from './format.js';
import type { LiveStatus } from './live-feed.js';

export function ConnectionStatus({ status, lastUpdated, onRetry }: { status: LiveStatus; lastUpdated: number | undefined; onRetry: () => void }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  let label: string;
  let tone: 'ok' | 'warn' | 'bad';
  switch (status.state) {
    case 'open':
      label = 'Live';
      tone = 'ok';
      break;
    case 'connecting':
      label = status.attempt === 0 ? 'Connecting…' : `Reconnecting (attempt ${status.attempt})…`;
      tone = 'warn';
      break;
    case 'waiting':
      label = `Disconnected (${status.reason})`;
      tone = 'bad';
      break;
    case 'unauthorized':
      label = 'Token refused';
      tone = 'bad';
      break;
    default:
      label = 'Stopped';
      tone = 'bad';
  }
  return (
    <div className="status">
      <span className={`dot dot-${tone}`} aria-hidden="true" />
      {/* Only the connection state is announced; the ticking "updated" time would be noise. */}
      <span role="status" data-testid="connection-status">
        {label}
      </span>
      {status.state === 'waiting' && <span>retrying in {Math.max(0, Math.ceil((status.retryAt - now) / 1000))} s</span>}
      {status.state === 'waiting' && (
        <button type="button" className="link-button" onClick={onRetry}>
          Retry now
        </button>
      )}
      <span className="muted" data-testid="last-updated">
        {lastUpdated ? `Updated ${formatAgo(lastUpdated, now)}` : 'Not updated yet'}
      </span>
    </div>
  );
}
