/*
 * The clickstream tracking snippet. Size is a feature (budget: 1.5 KB min+gzip, enforced by
 * test/snippet-size.test.ts), so it is one small closure rather than modules; see
 * snippet/README.md for the parts. Rules it keeps:
 * - every entry point (commands, listeners, timers, network callbacks) is wrapped so the host
 *   page never sees an error;
 * - no global but `cs`;
 * - an event keeps its id through every retry, so the platform counts it once;
 * - an event leaves localStorage only once the collector answered it, or once it was handed to
 *   the browser (sendBeacon, or a keepalive fetch in flight) as the page went away;
 * - an opted-out visitor (cs('optOut'), Global Privacy Control, Do-Not-Track with
 *   data-respect-dnt) causes no request and no storage write.
 */
((w, d) => {
  // Runs `f` and swallows anything it throws: the host page must never see our errors.
  const safe =
    (f) =>
    (...args) => {
      try {
        f(...args);
      } catch {}
    };
  // Capturing on window sees the document's events too (visibilitychange, click).
  const on = (type, f) => w.addEventListener(type, safe(f), true);
  const now = Date.now;
  const json = JSON.stringify;
  const script = d.currentScript;
  const attr = (name) => script.getAttribute('data-' + name);
  const stub = w.cs;
  // Loaded twice, or not from a script tag: leave the first copy alone.
  if (!script || (stub && stub.cs)) return;

  const endpoint = attr('api') || new URL('/v1/events', script.src);
  const site = attr('site') || 'default';
  const nav = navigator;
  const loc = location;
  // Global Privacy Control unless the site sets data-ignore-gpc; Do-Not-Track if it sets data-respect-dnt.
  const signal = (attr('ignore-gpc') == null && nav.globalPrivacyControl) || (attr('respect-dnt') != null && nav.doNotTrack == 1);

  // First-party storage: localStorage, or a plain object (memory) when it is blocked. Read live,
  // so an optOut in another tab counts here too.
  let store;
  try {
    store = localStorage;
  } catch {
    store = {};
  }
  const off = () => signal || store.cs_o;
  const put = (key, value) => {
    try {
      store[key] = value;
    } catch {}
  };
  const cut = (value, max) => (value && value.slice ? value.slice(0, max || 256) : undefined);
  const newId = () => Math.random().toString(36).slice(2) + now().toString(36);

  let userId = store.cs_u || newId();

  // The queue of this tab, mirrored to its own key `cs_q<id>` as [lease end, events]. Another
  // page takes over (claims) a key whose lease ended: its tab released it on hiding, or died.
  let key;
  let queue = [];
  let sending = [];
  let failures = 0;
  let retryAt = 0;
  let page = loc.href;
  const renew = () => (key = 'cs_q' + newId());
  const save = (until = now() + 12e4) => {
    let text;
    if (off()) queue = [];
    // Bounded: at most 100 events and 32 KB, so that one request can take them all; the
    // oldest go first.
    while ((text = json([until, queue])).length > 32e3 || queue[100]) queue.shift();
    queue[0] ? put(key, text) : delete store[key];
  };
  const body = (events) => json({ sentAt: now(), events });
  const done = (batch) => (queue = queue.filter((e) => !batch.includes(e)));
  const claim = safe(() => {
    for (const k in store)
      if (!k.indexOf('cs_q')) {
        const [until, events] = JSON.parse(store[k]);
        if (until < now()) delete store[k], queue.push(...events);
      }
    save();
  });

  // One request at a time, with the whole queue; called every second and when the page is hidden.
  const post = (hiding) => {
    if (hiding) {
      done(sending);
      // The collector is out of reach: release the events to whichever page comes next (this
      // one too, when it is shown again), but for the batch in flight, which stays under a
      // new key and lease until it is answered. Otherwise the batch in flight (keepalive) and
      // what sendBeacon takes count as sent.
      failures || !nav.onLine
        ? (save(0), renew(), (queue = [...sending]))
        : queue[0] && nav.sendBeacon(endpoint, body(queue)) && (queue = []);
      save();
    }
    if (sending[0] || !queue[0] || now() < retryAt) return;
    const batch = (sending = queue.slice());
    // Back-off 1 s … 32 s; saving renews the lease while the collector is out of reach.
    const retry = () => (save(), (retryAt = now() + (1e3 << Math.min(failures++, 5))));
    fetch(endpoint, { method: 'POST', body: body(batch), keepalive: true })
      .then((response) => {
        // 429 and 5xx are worth retrying; any other answer is final.
        if (response.status == 429 || response.status > 499) retry();
        else (failures = 0), done(batch), save();
      }, retry)
      .then(() => (sending = []));
  };

  const send = (type, extra) => {
    if (off()) return;
    // Session "id.lastSeen": a session ends after 30 minutes without events.
    const t = now();
    let [sessionId, seen] = (store.cs_s + '').split('.');
    t - seen < 18e5 || (sessionId = newId());
    put('cs_s', sessionId + '.' + t);
    put('cs_u', userId);
    queue.push({
      id: newId(),
      type,
      siteId: site,
      userId,
      sessionId,
      ts: t,
      url: cut(page, 2048),
      referrer: cut(d.referrer, 2048),
      title: cut(d.title, 512),
      ...extra,
    });
    save();
  };

  // Engagement: time the page is visible and its user active (input, scroll or focus in the
  // last 30 s). `mark` is when it was last counted up to; while the page is hidden it is
  // Infinity, so nothing accrues. Sent after every 15 s of it, when a stretch of it ends, and
  // when the page is hidden or left, so [ts - engagedMs, ts) is exactly when it was spent.
  let engaged = 0;
  let mark;
  let active;
  let until;
  const tick = () => {
    const t = now();
    const end = Math.min(t, active + 3e4);
    if (end > mark) (engaged += end - mark), (until = end);
    mark = d.hidden ? 1 / 0 : t;
  };
  const report = () => {
    tick();
    if (engaged) send('engagement', { engagedMs: engaged, ts: until });
    engaged = 0;
  };
  const wake = () => {
    tick();
    active = now();
  };
  'pointermove keydown scroll pointerdown focus'.split(' ').map((type) => on(type, wake));
  wake();
  setInterval(
    safe(() => {
      tick();
      if (engaged > 14999 || until < mark) report();
      post();
    }),
    1e3,
  );
  // Hidden (the page being left included: browsers fire this on leaving, and before the
  // back/forward cache) or shown again: then take back what was released on hiding.
  on('visibilitychange', () => (d.hidden ? (report(), post(1)) : (wake(), claim())));
  on('online', () => (retryAt = failures = 0));

  // Page views, SPA navigations included.
  const pageView = () => send('page_view');
  const navigated = safe(() => {
    if (loc.href == page) return;
    report();
    page = loc.href;
    pageView();
  });
  ['pushState', 'replaceState'].map((name) => {
    const original = history[name];
    // Both return undefined.
    history[name] = (...args) => {
      original.apply(history, args);
      navigated();
    };
  });
  on('popstate', navigated);

  // Clicks on links, buttons and [data-track] elements; never the value of an input.
  on('click', (event) => {
    const el = event.target.closest('a,button,[data-track]');
    if (!el) return;
    send('click', {
      target: {
        tag: el.localName,
        id: cut(el.id),
        text: cut(el.textContent.replace(/\s+/g, ' ').trim(), 64),
        href: cut(el.href),
      },
    });
  });

  const commands = {
    identify: (id) => (userId = cut(String(id), 128) || userId),
    // A copy through JSON: a cyclic or exotic object fails here, not later inside a send.
    track: (name, props) => send('custom', { name: cut(String(name), 64), props: props && JSON.parse(json(props)) }),
    // Opting out removes what the snippet stored, and keeps only the choice (queues of other
    // tabs go when those tabs or the next page see it).
    optOut: () => {
      put('cs_o', 1);
      delete store.cs_u;
      delete store.cs_s;
      save();
    },
    optIn: () => delete store.cs_o,
  };
  const cs = safe((name, a, b) => commands[name](a, b));
  cs.cs = 1;
  w.cs = cs;
  renew();
  claim();
  // Commands called before the snippet loaded (the install stub queues them); an early
  // identify then applies to the first page view.
  ((stub && stub.q) || []).map((args) => cs(...args));
  pageView();
})(window, document);
