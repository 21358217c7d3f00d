/** Asked for when there is no token or the API refused the one we had. */
import { useId, useState, type FormEvent } from 'react';

export function TokenPrompt({ refused, onSubmit }: { refused: boolean; onSubmit: (token: string) => void }) {
  const [value, setValue] = useState('');
  const inputId = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value.trim()) onSubmit(value.trim());
  };
  return (
    <main className="token-prompt">
      <form className="card" onSubmit={submit} aria-labelledby={`${inputId}-title`}>
        <h1 id={`${inputId}-title`}>Clickstream dashboard</h1>
        {refused ? (
          <p role="alert" className="error">
            The API refused the saved token. Enter the current one.
          </p>
        ) : (
          <p>Enter the API token to see your data.</p>
        )}
        <p className="muted">
          <code>npm start</code> prints a dashboard link with the token, and keeps it in <code>.data/api-token</code>.
        </p>
        <label htmlFor={inputId}>API token</label>
        <input id={inputId} type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} required autoFocus />
        <button type="submit">Open dashboard</button>
      </form>
    </main>
  );
}
