/**
 * Simulated shoppers for `npm start -- --demo`: visitors arrive at the demo shop from search
 * engines, social sites, newsletters and ads (referrers and UTM-tagged landing URLs), on desktops,
 * phones and tablets (a user agent per visitor), browse, click, add to cart, sign up or bounce, and
 * their events go to the collector exactly as the snippet would send them (batched POST
 * /v1/events with sentAt; one request per user agent, since the collector reads the device from
 * the request's User-Agent). Within a minute every panel of the dashboard has data, except
 * countries: the collector finds those from the client address, which is loopback here.
 * The model is pure and takes its randomness and clock as arguments; `startDemoTraffic` is the
 * I/O around it.
 */
import { randomBytes } from 'node:crypto';
import type { ClientEvent } from '@clickstream/shared';

/** Real browsers' user agents: bots count in no metric, and these are people. */
export const DEMO_DEVICES = Object.freeze([
  { device: 'desktop', weight: 5, userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' },
  { device: 'desktop', weight: 2, userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15' },
  { device: 'desktop', weight: 2, userAgent: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' },
  { device: 'mobile', weight: 3, userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1' },
  { device: 'mobile', weight: 3, userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36' },
  { device: 'tablet', weight: 2, userAgent: 'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1' },
] as const);

/**
 * Where visits come from: a referrer, UTM parameters on the landing URL, both, or neither
 * (direct). `self` is a link from the shop itself (a self-referral: it counts as direct).
 */
export const DEMO_ARRIVALS = Object.freeze([
  { weight: 4, referrer: 'https://www.google.com/' },
  { weight: 1, referrer: 'https://www.bing.com/' },
  { weight: 1, referrer: 'https://duckduckgo.com/' },
  { weight: 1, referrer: 'https://news.ycombinator.com/' },
  { weight: 1, referrer: 'https://www.reddit.com/r/coffee/' },
  { weight: 1, referrer: 'https://t.co/x7Demo' },
  { weight: 2, utm: 'utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale' },
  { weight: 1, referrer: 'https://www.facebook.com/', utm: 'utm_source=facebook&utm_medium=cpc&utm_campaign=mugs_promo' },
  { weight: 1, utm: 'utm_source=instagram&utm_medium=social&utm_campaign=spring_sale' },
  { weight: 2, self: true },
  { weight: 3 },
] as { weight: number; referrer?: string; utm?: string; self?: boolean }[]);

const NAMES = ['ada', 'grace', 'linus', 'margaret', 'alan', 'barbara', 'ken', 'radia', 'dennis', 'frances', 'edsger', 'hedy'];
const PAGES = [
  { path: '/demo/', title: 'Demo shop' },
  { path: '/demo/products', title: 'Products · Demo shop' },
  { path: '/demo/products/mug', title: 'Enamel mug · Demo shop' },
  { path: '/demo/products/tee', title: 'Organic tee · Demo shop' },
  { path: '/demo/products/cap', title: 'Field cap · Demo shop' },
  { path: '/demo/cart', title: 'Cart · Demo shop' },
];
const PRODUCTS = [
  { product: 'mug', price: 14 },
  { product: 'tee', price: 25 },
  { product: 'cap', price: 19 },
];
const PLANS = ['free', 'pro', 'team'];
const BUTTONS = [
  { tag: 'button', id: 'add-to-cart', text: 'Add to cart' },
  { tag: 'a', text: 'Products', href: '/demo/products' },
  { tag: 'button', id: 'hero-cta', text: 'Shop now' },
  { tag: 'button', id: 'checkout', text: 'Check out' },
];
/** Share of visits that see one page and leave without a click. */
const BOUNCE_SHARE = 0.3;

export type Random = () => number;

function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length) % items.length]!;
}

function pickWeighted<T extends { weight: number }>(items: readonly T[], random: Random): T {
  let r = random() * items.reduce((s, i) => s + i.weight, 0);
  for (const item of items) {
    r -= item.weight;
    if (r < 0) return item;
  }
  return items[items.length - 1]!;
}

function eventId(random: Random): string {
  return `demo-${Math.floor(random() * 2 ** 48).toString(36)}${Math.floor(random() * 2 ** 48).toString(36)}`.slice(0, 32).padEnd(12, '0');
}

/**
 * One shopper slot: alternates between visits and time away. Each visit is a new visitor (the
 * snippet's anonymous id: `<name>-<n>`) on a device and from a source of its own; a visit is one
 * session of the snippet.
 */
export class SimulatedUser {
  private sessionId: string | undefined;
  private visitorId: string;
  private page = PAGES[0]!;
  private awayUntil = 0;
  private unsentEngagedMs = 0;
  private sessionEndsAt = 0;
  private sessions = 0;
  private bouncing = false;
  private device: (typeof DEMO_DEVICES)[number] = DEMO_DEVICES[0];

  constructor(
    readonly name: string,
    private readonly siteId: string,
    private readonly pageOrigin: string,
  ) {
    this.visitorId = name;
  }

  /** The user agent of the current (or last) visit: the events of the last `step` came from it. */
  get userAgent(): string {
    return this.device.userAgent;
  }

  get userId(): string {
    return this.visitorId;
  }

  /** The events this user produces during one tick of `tickMs` ending at `now`. */
  step(now: number, tickMs: number, random: Random): ClientEvent[] {
    if (now < this.awayUntil) return [];
    const events: ClientEvent[] = [];
    const base = () => ({ id: eventId(random), siteId: this.siteId, userId: this.visitorId, sessionId: this.sessionId!, ts: now - Math.floor(random() * tickMs) });
    const url = () => `${this.pageOrigin}${this.page.path}`;
    if (!this.sessionId) {
      this.sessions += 1;
      this.visitorId = `${this.name}-${this.sessions}`;
      this.sessionId = `${this.visitorId}-s-${Math.floor(random() * 1e9).toString(36)}`;
      this.device = pickWeighted(DEMO_DEVICES, random);
      this.bouncing = random() < BOUNCE_SHARE;
      this.sessionEndsAt = now + (this.bouncing ? 3000 + random() * 12_000 : 30_000 + random() * 120_000);
      this.page = pick(PAGES.slice(0, 3), random);
      const arrival = pickWeighted(DEMO_ARRIVALS, random);
      const landing = arrival.utm ? `${url()}?${arrival.utm}` : url();
      const referrer = arrival.self ? `${this.pageOrigin}/demo/products` : (arrival.referrer ?? '');
      events.push({ ...base(), type: 'page_view', url: landing, title: this.page.title, referrer });
      return events;
    }
    this.unsentEngagedMs += Math.round(tickMs * (0.5 + random() * 0.5));
    if (!this.bouncing) {
      if (random() < 0.35) {
        const target = pick(BUTTONS, random);
        events.push({ ...base(), type: 'click', url: url(), title: this.page.title, target });
      }
      if (random() < 0.2) {
        const referrer = url();
        this.page = pick(PAGES, random);
        events.push({ ...base(), type: 'page_view', url: url(), title: this.page.title, referrer });
      }
      if (random() < 0.08) {
        events.push({ ...base(), type: 'custom', url: url(), name: 'add_to_cart', props: { ...pick(PRODUCTS, random) } });
      }
      if (random() < 0.02) {
        events.push({ ...base(), type: 'custom', url: url(), name: 'signup', props: { plan: pick(PLANS, random) } });
      }
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
    return new SimulatedUser(i < NAMES.length ? name : `${name}${Math.floor(i / NAMES.length)}`, siteId, pageOrigin);
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

  // One request per user agent: the collector takes browser, OS and device from the request.
  const post = async (userAgent: string, events: ClientEvent[]) => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': userAgent },
      body: JSON.stringify({ sentAt: Date.now(), events }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`collector answered ${response.status}`);
  };
  const tick = async () => {
    const now = Date.now();
    const batches = new Map<string, ClientEvent[]>();
    users.forEach((u, i) => {
      if (now < arrivals[i]!) return;
      const events = u.step(now, tickMs, random);
      if (events.length > 0) batches.set(u.userAgent, [...(batches.get(u.userAgent) ?? []), ...events]);
    });
    for (const [userAgent, all] of batches) {
      // The collector takes at most 100 events per request.
      for (let i = 0; i < all.length; i += 100) {
        const events = all.slice(i, i + 100);
        try {
          await post(userAgent, events);
          stats.sent += events.length;
        warned = false;
        } catch (error) {
          stats.failed += events.length;
          if (!warned) log(`demo traffic: ${(error as Error).message}; retrying each second`);
          warned = true;
        }
      }
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
