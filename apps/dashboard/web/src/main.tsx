import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { adoptTokenFromUrl } from './token.js';
import './styles.css';

// Before anything renders or loads (the charts chunk, /config.json): a `?token=` the page was
// opened with moves into storage and out of the address bar and history.
adoptTokenFromUrl();

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
