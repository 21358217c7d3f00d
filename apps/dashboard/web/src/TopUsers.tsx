/** The most active users of the range; the sort is done by the API (`by=`), so it covers everyone. */
import type { TopUser, TopUsersBy } from './api.js';
import { formatCount, formatDuration } from './format.js';

const COLUMNS: Array<{ by: TopUsersBy; label: string }> = [
  { by: 'events', label: 'Events' },
  { by: 'clicks', label: 'Clicks' },
  { by: 'engagedMs', label: 'Engaged time' },
];

export function TopUsers({
  users,
  sortBy,
  onSort,
  onSelect,
  selected,
}: {
  users: TopUser[] | undefined;
  sortBy: TopUsersBy;
  onSort: (by: TopUsersBy) => void;
  onSelect: (userId: string) => void;
  selected: string | undefined;
}) {
  return (
    <section className="card" aria-labelledby="top-users-title">
      <h2 id="top-users-title">Top users</h2>
      <div className="table-scroll">
        <table>
          <caption className="visually-hidden">Users with the most activity in the selected range; choose a user for details.</caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              {COLUMNS.map((c) => (
                <th scope="col" key={c.by} aria-sort={sortBy === c.by ? 'descending' : 'none'} className="num">
                  <button type="button" className="sort" onClick={() => onSort(c.by)} aria-pressed={sortBy === c.by}>
                    {c.label}
                    <span aria-hidden="true">{sortBy === c.by ? ' ▼' : ''}</span>
                  </button>
                </th>
              ))}
              <th scope="col" className="num">
                Windows
              </th>
            </tr>
          </thead>
          <tbody>
            {users === undefined && (
              <tr>
                <td colSpan={5} className="muted">
                  Loading…
                </td>
              </tr>
            )}
            {users?.length === 0 && (
              <tr>
                <td colSpan={5} className="muted">
                  No users in this range.
                </td>
              </tr>
            )}
            {users?.map((u) => (
              <tr key={u.userId} className={u.userId === selected ? 'selected' : undefined}>
                <td className="user-cell">
                  <button type="button" className="link-button" onClick={() => onSelect(u.userId)} title={u.userId}>
                    {u.userId}
                  </button>
                </td>
                <td className="num">{formatCount(u.events)}</td>
                <td className="num">{formatCount(u.clicks)}</td>
                <td className="num">{formatDuration(u.engagedMs)}</td>
                <td className="num">{formatCount(u.windows)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
