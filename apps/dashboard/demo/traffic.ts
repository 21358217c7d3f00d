/**
 * Simulated shoppers for `npm start -- --demo`: a handful of users browse the demo shop, click,
 * read and leave, and their events go to the collector exactly as the snippet would send them
 * (batched POST /v1/events with sentAt). The model is pure and takes its randomness and clock
 * as arguments; `startDemoTraffic` is the I/O around it.
 */
import { randomBytes } from 'node:crypto';
import type { ClientEvent } from '@clickstream/shared';

/** The simulated shoppers browse with a desktop browser; bots count in no metric. */
const DEMO_USER_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

const NAMES = ['ada', 'grace', 'linus', 'margaret', 'alan', 'barbara', 'ken', 'radia', 'dennis', 'frances', 'edsger', 'hedy'];
const PAGES = [
  { path: '/demo/', title: 'Demo shop' },
  { path: '/demo/products', title: 'Products · Demo shop' },
  { path: '/demo/products/mug', title: 'Enamel mug · Demo shop' },
  { path: '/demo/products/tee', title: 'Organic tee · Demo shop' },
  { path: '/demo/products/cap', title: 'Field cap · Demo shop' },
  { path: '/demo/cart', title: 'Cart · Demo shop' },
];
const BUTTONS = [
  { tag: 'button', id: 'add-to-cart', text: 'Add to cart' },
  { tag: 'a', text: 'Products', href: '/demo/products' },
  { tag: 'button', id: 'hero-cta', text: 'Shop now' },
  { tag: 'button', id: 'checkout', text: 'Check out' },
];

export type Random = () => number;

function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length) % items.length]!;
}

function eventId(random: Random): string {
  return `demo-${Math.floor(random() * 2 ** 48).toString(36)}${Math.floor(random() * 2 ** 48).toString(36)}`.slice(0, 32).padEnd(12, '0');
}

/** One shopper: alternates between browsing sessions and time away. */
export class SimulatedUser {
  private sessionId: string | undefined;
  private page = PAGES[0]!;
  private awayUntil = 0;
  private unsentEngagedMs = 0;
  private sessionEndsAt = 0;
  private sessions = 0;

  constructor(
    readonly userId: string,
    private readonly siteId: string,
    private readonly pageOrigin: string,
  ) {}

  /** The events this user produces during one tick of `tickMs` ending at `now`. */
  step(now: number, tickMs: number, random: Random): ClientEvent[] {
    if (now < this.awayUntil) return [];
    const events: ClientEvent[] = [];
    const base = () => ({ id: eventId(random), siteId: this.siteId, userId: this.userId, sessionId: this.sessionId!, ts: now - Math.floor(random() * tickMs) });
    const url = () => `${this.pageOrigin}${this.page.path}`;
    if (!this.sessionId) {
      this.sessions += 1;
      this.sessionId = `${this.userId}-s${this.sessions}-${Math.floor(random() * 1e9).toString(36)}`;
      this.sessionEndsAt = now + 30_000 + random() * 120_000;
      this.page = pick(PAGES.slice(0, 2), random);
      events.push({ ...base(), type: 'page_view', url: url(), title: this.page.title, referrer: '' });
      return events;
    }
    this.unsentEngagedMs += Math.round(tickMs * (0.5 + random() * 0.5));
    if (random() < 0.35) {
      const target = pick(BUTTONS, random);
      events.push({ ...base(), type: 'click', url: url(), title: this.page.title, target });
    }
    if (random() < 0.2) {
      const referrer = url();
      this.page = pick(PAGES, random);
      events.push({ ...base(), type: 'page_view', url: url(), title: this.page.title, referrer });
    }
    if (random() < 0.05) {
      events.push({ ...base(), type: 'custom', url: url(), name: 'add_to_cart', props: { product: 'mug', price: 14 } });
    }
    const leaving = now >= this.sessionEndsAt;
    if (this.unsentEngagedMs >= 5000 || leaving) {
      events.push({ ...base(), type: 'engagement', url: url(), engagedMs: Math.min(this.unsentEngagedMs, 600_000) });
      this.unsentEngagedMs = 0;
    }
    if (leaving) {
      this.sessionId = undefined;
      this.awayUntil = now + 10_000 + random() * 60_000;
    }
    return events;
  }
}

export interface DemoTrafficOptions {
  collectorUrl: string;
  siteId?: string;
  users?: number;
  tickMs?: number;
  /** Origin of the demo pages the simulated users "visit" (the dashboard's /demo/). */
  pageOrigin?: string;
  log?: (message: string) => void;
}

export interface DemoTraffic {
  readonly stats: { sent: number; failed: number };
  stop(): Promise<void>;
}

export function createDemoUsers(count: number, siteId: string, pageOrigin: string): SimulatedUser[] {
  return Array.from({ length: count }, (_, i) => {
    const name = NAMES[i % NAMES.length]!;
    return new SimulatedUser(i < NAMES.length ? name : `${name}-${Math.floor(i / NAMES.length)}`, siteId, pageOrigin);
  });
}

/** Starts the simulated users; they post a batch per tick until `stop()`. */
export function startDemoTraffic(options: DemoTrafficOptions): DemoTraffic {
  const { collectorUrl, siteId = 'demo-shop', users: count = 8, tickMs = 1000, pageOrigin = 'http://localhost:3000', log = () => {} } = options;
  const endpoint = `${collectorUrl.replace(/\/+$/, '')}/v1/events`;
  const users = createDemoUsers(count, siteId, pageOrigin);
  const stats = { sent: 0, failed: 0 };
  // Stagger arrivals over the first ticks so the chart ramps up instead of jumping.
  const startAt = Date.now();
  const arrivals = users.map((_, i) => startAt + i * 1500);
  const random: Random = () => randomBytes(4).readUInt32BE() / 2 ** 32;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  let warned = false;

  const tick = async () => {
    const now = Date.now();
    const events = users.flatMap((u, i) => (now >= arrivals[i]! ? u.step(now, tickMs, random) : []));
    if (events.length === 0) return;
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        // Node's fetch announces itself as "node", which the collector rightly counts as a bot.
        headers: { 'content-type': 'application/json', 'user-agent': DEMO_USER_AGENT },
        body: JSON.stringify({ sentAt: Date.now(), events: events.slice(0, 100) }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`collector answered ${response.status}`);
      stats.sent += events.length;
      warned = false;
    } catch (error) {
      stats.failed += events.length;
      if (!warned) log(`demo traffic: ${(error as Error).message}; retrying each second`);
      warned = true;
    }
  };
  const timer = setInterval(() => {
    if (!stopped) inFlight = inFlight.then(tick);
  }, tickMs);
  log(`demo traffic: ${count} simulated shoppers on site "${siteId}" → ${endpoint}`);
  return {
    stats,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
