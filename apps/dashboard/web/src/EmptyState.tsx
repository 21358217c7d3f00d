/** Shown until a site has data: the exact snippet to paste, and a way to see it work first. */
import { useState } from 'react';
import { snippetFor } from './snippet.js';

export function EmptyState({ collectorUrl, siteId }: { collectorUrl: string | undefined; siteId: string }) {
  const [copied, setCopied] = useState(false);
  const snippet = snippetFor(collectorUrl ?? window.location.origin.replace(/:\d+$/, ':8080'), siteId);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(snippet);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <section className="card empty" aria-labelledby="empty-title">
      <h2 id="empty-title">No data for “{siteId}” yet</h2>
      <p>Paste this into the pages of your site, just before <code>&lt;/head&gt;</code>. Windows appear here a few seconds after the first visit.</p>
      <pre className="snippet" data-testid="snippet">
        <code>{snippet}</code>
      </pre>
      <div className="actions">
        <button type="button" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy snippet'}
        </button>
        <a className="button secondary" href="/demo/" target="_blank" rel="noopener">
          Open the demo shop
        </a>
      </div>
      <p className="muted">
        Then identify signed-in users with <code>cs('identify', userId)</code>. The demo shop reports to the site “demo-shop”; run{' '}
        <code>npm start -- --demo</code> for simulated visitors.
      </p>
    </section>
  );
}
