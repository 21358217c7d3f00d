/** The two lines a site owner pastes (contract: "Snippet"), for their collector and site. */
export function snippetFor(collectorUrl: string, siteId: string): string {
  const base = collectorUrl.replace(/\/+$/, '');
  return [
    `<script defer src="${base}/snippet.js" data-site="${siteId}"></script>`,
    '<script>window.cs=window.cs||function(){(cs.q=cs.q||[]).push(arguments)}</script>',
  ].join('\n');
}
