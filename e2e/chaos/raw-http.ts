/**
 * HTTP the way an attacker writes it: bytes on a socket, no client library to tidy the headers
 * or the body. Answers the status code of the first response line, or 0 when the server closed
 * the connection without one; rejects when nothing came within the bound.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  head: string;
  ms: number;
}

export function rawRequest(
  port: number,
  chunks: Array<string | Buffer>,
  { boundMs = 5000, gapMs = 0 }: { boundMs?: number; gapMs?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const answer = () => {
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      return { status: match ? Number(match[1]) : 0, head: received.split('\r\n\r\n')[0] ?? '', ms: Date.now() - started };
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no answer within ${boundMs} ms; got ${JSON.stringify(received.slice(0, 200))}`))), boundMs);
    socket.on('data', (data) => {
      received += data.toString('latin1');
      if (received.includes('\r\n\r\n')) finish(() => resolve(answer()));
    });
    socket.on('error', () => finish(() => resolve(answer())));
    socket.on('close', () => finish(() => resolve(answer())));
    const writeChunks = async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    };
    socket.on('connect', () => void writeChunks());
  });
}

/** A WebSocket upgrade request; 101 means the feed opened. */
export function upgradeRequest(port: number, path: string, headers: Record<string, string>): Promise<RawAnswer> {
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return rawRequest(port, [`${lines.join('\r\n')}\r\n\r\n`]);
}

/**
 * Opens the live feed and holds it for `holdMs`; true when it was upgraded and the server had
 * not closed it by then (timeouts meant for slow request bodies must not cut a live socket).
 */
export function liveSocketSurvives(port: number, path: string, origin: string, holdMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let upgraded = false;
    let closed = false;
    socket.on('data', (data) => {
      if (!upgraded && data.toString('latin1').startsWith('HTTP/1.1 101')) upgraded = true;
    });
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    socket.on('connect', () => {
      socket.write(
        [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', `Origin: ${origin}`, '', ''].join('\r\n'),
      );
    });
    setTimeout(() => {
      socket.destroy();
      resolve(upgraded && !closed);
    }, holdMs);
  });
}
