/*
 * The clickstream tracking snippet. Size is a feature (budget: 1.5 KB min+gzip, enforced by
 * test/snippet-size.test.ts), so it is one small closure rather than modules; see
 * snippet/README.md for the parts. Rules it keeps:
 * - every entry point (commands, listeners, timers, network callbacks) is wrapped so the host
 *   page never sees an error;
 * - no global but `cs`;
 * - an event keeps its id through every retry, so the platform counts it once.
 */
((w, d) => {
  // Runs `f` and swallows anything it throws: the host page must never see our errors.
  const safe = (f) => (a, b, c) => {
    try {
      return f(a, b, c);
    } catch (e) {}
  };
  const on = (target, type, f) => target.addEventListener(type, safe(f), true);
  const now = Date.now;
  const script = d.currentScript;
  const attr = (name) => script.getAttribute('data-' + name);
  const stub = w.cs;
  // Loaded twice, or not from a script tag: leave the first copy alone.
  if (!script || (stub && stub.cs)) return;

  const endpoint = attr('api') || new URL(script.src).origin + '/v1/events';
  const site = attr('site') || 'default';
  const nav = navigator;
  const loc = location;
  const refused = attr('respect-dnt') != null && (nav.doNotTrack == '1' || nav.globalPrivacyControl);

  // First-party storage, falling back to memory when it is blocked or throws.
  const memory = {};
  const read = (key) => {
    let value;
    try {
      value = localStorage.getItem(key);
    } catch (e) {}
    return value != null ? value : memory[key];
  };
  const write = (key, value) => {
    memory[key] = value;
    try {
      localStorage.setItem(key, value);
    } catch (e) {}
  };
  const cut = (value, max) => (value && typeof value == 'string' ? value.slice(0, max || 256) : undefined);
  const newId = () => Math.random().toString(36).slice(2) + now().toString(36);

  let userId = read('cs_u') || newId();
  write('cs_u', userId);
  const sessionId = () => {
    // "id.lastSeen": a session ends after 30 minutes without events.
    const [id, seen] = (read('cs_s') || '').split('.');
    const t = now();
    const session = id && t - seen < 18e5 ? id : newId();
    write('cs_s', session + '.' + t);
    return session;
  };

  let queue = [];
  let sending = 0;
  let flushTimer;
  let failures = 0;
  let page = loc.href;

  const post = safe((beacon) => {
    clearTimeout(flushTimer);
    flushTimer = 0;
    if (beacon) {
      // The page is going away: hand everything to the browser now.
      while (queue.length) {
        const body = JSON.stringify({ sentAt: now(), events: queue.slice(0, 10) });
        if (!(nav.sendBeacon && nav.sendBeacon(endpoint, body))) break;
        queue.splice(0, 10);
      }
    }
    if (sending || !queue.length) return;
    const batch = queue.splice(0, 10);
    sending = 1;
    const retry = () => {
      queue = batch.concat(queue);
      flushTimer = setTimeout(post, 1e3 * 2 ** Math.min(failures++, 5));
    };
    fetch(endpoint, { method: 'POST', body: JSON.stringify({ sentAt: now(), events: batch }), keepalive: true })
      .then((response) => {
        // 429 and 5xx are worth retrying; any other answer is final.
        if (response.status == 429 || response.status > 499) retry();
        else failures = 0;
      }, retry)
      .then(
        safe(() => {
          sending = 0;
          if (!flushTimer && queue.length) post();
        }),
      );
  });

  const send = (type, extra) => {
    if (refused || read('cs_o')) return;
    queue.push(
      Object.assign(
        {
          id: newId(),
          type,
          siteId: site,
          userId,
          sessionId: sessionId(),
          ts: now(),
          url: cut(page, 2048),
          referrer: cut(d.referrer, 2048),
          title: cut(d.title, 512),
        },
        extra,
      ),
    );
    // Offline for long: keep the newest events only.
    if (queue.length > 200) queue.shift();
    if (queue.length > 9) post();
    else flushTimer = flushTimer || setTimeout(safe(post), 1e3);
  };

  // Engagement: time the page is visible and its user active (input within the last 30 s).
  let engaged = 0;
  let mark = now();
  let active = mark;
  let visible = !d.hidden;
  const tick = () => {
    const t = now();
    if (visible) engaged += Math.max(0, Math.min(t, active + 3e4) - mark);
    mark = t;
  };
  const reportEngagement = () => {
    tick();
    if (engaged > 0) send('engagement', { engagedMs: Math.min(engaged, 6e5) });
    engaged = 0;
  };
  'mousemove keydown scroll touchstart click'.split(' ').map((type) =>
    on(w, type, () => {
      tick();
      active = now();
    }),
  );
  const hide = () => {
    reportEngagement();
    post(1);
  };
  on(d, 'visibilitychange', () => {
    if (d.hidden) hide();
    else mark = active = now();
    visible = !d.hidden;
  });
  on(w, 'pagehide', hide);
  on(w, 'online', () => {
    failures = 0;
    post();
  });

  // Page views, SPA navigations included.
  const pageView = () => send('page_view');
  const navigated = () => {
    if (loc.href == page) return;
    reportEngagement();
    page = loc.href;
    pageView();
  };
  ['pushState', 'replaceState'].map((name) => {
    const original = history[name];
    history[name] = function () {
      const result = original.apply(this, arguments);
      safe(navigated)();
      return result;
    };
  });
  on(w, 'popstate', navigated);

  // Clicks on links, buttons and [data-track] elements; never the value of an input.
  on(d, 'click', (event) => {
    const el = event.target.closest('a,button,[data-track]');
    if (!el) return;
    send('click', {
      target: {
        tag: el.tagName.toLowerCase(),
        id: cut(el.id),
        text: cut(el.textContent.replace(/\s+/g, ' ').trim(), 64),
        href: cut(el.href),
      },
    });
  });

  const commands = {
    identify: (id) => {
      userId = cut(String(id), 128) || userId;
      write('cs_u', userId);
    },
    // A copy through JSON: a cyclic or exotic object fails here, not later inside a send.
    track: (name, props) => send('custom', { name: cut(String(name), 64), props: props && JSON.parse(JSON.stringify(props)) }),
    optOut: () => {
      write('cs_o', '1');
      queue = [];
    },
    optIn: () => write('cs_o', ''),
  };
  const cs = safe((name, a, b) => commands[name](a, b));
  cs.cs = 1;
  w.cs = cs;
  // Commands called before the snippet loaded (the install stub queues them); an early
  // identify then applies to the first page view.
  ((stub && stub.q) || []).map((args) => cs.apply(0, args));
  pageView();
})(window, document);
