/** Window results as they commit, newest first; corrections by late events are marked. */
import { formatClock, formatDuration } from './format.js';
import type { LiveRow } from './live-state.js';

export function LiveActivity({ rows, onSelect }: { rows: LiveRow[]; onSelect: (userId: string) => void }) {
  return (
    <section className="card" aria-labelledby="live-title">
      <h2 id="live-title">Live activity</h2>
      <p className="muted">Each row is one user's 5-second window, shown as soon as it is committed.</p>
      <div className="table-scroll">
        <table data-testid="live-activity">
          <thead>
            <tr>
              <th scope="col">Window</th>
              <th scope="col">User</th>
              <th scope="col" className="num">Events</th>
              <th scope="col" className="num">Clicks</th>
              <th scope="col" className="num">Engaged</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={5} className="muted">
                  Waiting for the next window to close…
                </td>
              </tr>
            )}
            {rows.map(({ key, result, corrected }) => (
              <tr key={key} data-user={result.userId} className={corrected ? 'corrected' : undefined}>
                <td>
                  {formatClock(Date.parse(result.windowStart))}
                  {corrected && (
                    <span className="badge" title="Corrected by events that arrived late">
                      rev {result.revision}
                      <span className="visually-hidden"> (corrected by late events)</span>
                    </span>
                  )}
                </td>
                <td className="user-cell">
                  <button type="button" className="link-button" onClick={() => onSelect(result.userId)} title={result.userId}>
                    {result.userId}
                  </button>
                </td>
                <td className="num" data-field="events">{result.events}</td>
                <td className="num" data-field="clicks">{result.clicks}</td>
                <td className="num">{formatDuration(result.engagedMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
