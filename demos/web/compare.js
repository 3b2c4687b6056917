// Comparison page: the four clients of transports.js on one topic, from one cursor, each
// with its own counters. Loaded after common.js and transports.js.
'use strict';

(function () {
  const KEYS = ['poll', 'long-poll', 'sse', 'ws'];
  const NAMES = { poll: 'short polling', 'long-poll': 'long polling', sse: 'SSE', ws: 'WebSocket' };
  const status = PL.$('#status');
  const intervalInput = PL.$('#interval');
  const timeoutInput = PL.$('#timeout');

  /** Per transport: its counters, their view, its list, its status pill. */
  const lanes = {};
  for (const key of KEYS) {
    const stats = new PL.Stats();
    lanes[key] = {
      stats,
      view: new PL.StatsView(document.querySelector('[data-transport="' + key + '"]'), stats),
      list: new PL.MessageList(PL.$('#messages-' + key)),
      status: PL.$('#status-' + key),
      client: null,
    };
  }

  intervalInput.value = String(PL.intParam('interval', 1000) / 1000);
  timeoutInput.value = String(PL.intParam('timeout', 25));

  function intervalMs() {
    const s = Number(intervalInput.value);
    if (!Number.isFinite(s) || s <= 0) return 1000;
    return Math.round(Math.min(Math.max(s, 0.1), 60) * 1000);
  }

  function timeoutSecs() {
    const s = Math.round(Number(timeoutInput.value));
    return Number.isFinite(s) ? Math.min(Math.max(s, 1), 120) : 25;
  }

  // ---- SSE delay: an event has no publish time, so take the one the JSON transports saw

  const MAX_KNOWN = 2000;
  let sessionStart = Date.now();
  const timeById = new Map();   // id → publish time, from poll, long-poll or ws
  const sseWaiting = new Map(); // id → {arrival, li}, SSE events whose time is not known yet

  function remember(map, key, value) {
    map.set(key, value);
    if (map.size > MAX_KNOWN) map.delete(map.keys().next().value);
  }

  function timeSse(wait, time) {
    if (time < sessionStart) {
      wait.li.classList.add('history');
      PL.setMeta(wait.li, 'history');
      return;
    }
    const d = wait.arrival - time;
    lanes.sse.stats.addDelay(d);
    PL.setMeta(wait.li, PL.fmtMs(d));
  }

  function learnTime(m) {
    if (typeof m.time !== 'number' || timeById.has(m.id)) return;
    remember(timeById, m.id, m.time);
    const wait = sseWaiting.get(m.id);
    if (wait) {
      sseWaiting.delete(m.id);
      timeSse(wait, m.time);
    }
  }

  function deliverSse(m) {
    const lane = lanes.sse;
    const li = lane.list.add(m, '');
    const wait = { arrival: Date.now(), li };
    const time = timeById.get(m.id);
    if (time !== undefined) {
      timeSse(wait, time);
    } else {
      remember(sseWaiting, m.id, wait);
      PL.setMeta(li, 'timing…');
    }
  }

  // ---- the session

  let ctrl = null;
  let topic = PL.DEFAULT_TOPIC;
  let laneError = false; // #error holds a transport's trouble, to clear when all are well

  function hooksFor(key) {
    const lane = lanes[key];
    return {
      onState(state, text) { PL.setStatus(lane.status, state, text); },
      onError(text) {
        laneError = true;
        PL.showError(NAMES[key] + ': ' + text);
      },
      onNotice(text) { lane.list.marker(text, 'restart'); },
      onMessage(m) {
        if (key === 'sse') {
          deliverSse(m);
        } else {
          PL.showTimed(lane.list, lane.stats, m, sessionStart);
          learnTime(m);
        }
        lane.view.render();
      },
    };
  }

  function stopAll() {
    for (const key of KEYS) {
      const c = lanes[key].client;
      if (!c) continue;
      if (c instanceof PL.WsClient) c.close(1000, 'changing topic', true);
      else if (c instanceof PL.SseClient) c.close();
      else c.stop();
      lanes[key].client = null;
    }
  }

  async function join(t) {
    topic = t;
    stopAll();
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    sessionStart = Date.now();
    timeById.clear();
    sseWaiting.clear();
    for (const key of KEYS) {
      lanes[key].stats.reset();
      lanes[key].list.clear(null);
      PL.setStatus(lanes[key].status, 'connecting', 'waiting for the start cursor…');
    }
    PL.setStatus(status, 'connecting', 'asking for the topic\'s latest id…');

    let start;
    try {
      // All four start at the latest id: no history, so the counts compare like with like.
      start = await PL.beginWhenReachable(t, signal, (why) => PL.setStatus(status, 'error', why), 0);
    } catch (err) {
      if (PL.isAbort(err) || signal.aborted) return;
      PL.setStatus(status, 'error', 'stopped: ' + PL.describeError(err));
      PL.showError(PL.describeError(err));
      return;
    }
    if (signal.aborted) return;
    const since = start.since;
    for (const key of KEYS) {
      lanes[key].list.clear(since);
      lanes[key].list.marker('from id ' + since, 'note');
    }

    const poll = new PL.ShortPoller({ topic: t, since, stats: lanes.poll.stats, interval: intervalMs, hooks: hooksFor('poll') });
    const longPoll = new PL.LongPoller({ topic: t, since, stats: lanes['long-poll'].stats, timeout: timeoutSecs, hooks: hooksFor('long-poll') });
    const sse = new PL.SseClient({ topic: t, stats: lanes.sse.stats, hooks: hooksFor('sse') });
    const ws = new PL.WsClient({ topic: t, stats: lanes.ws.stats, hooks: hooksFor('ws'), reconnectMs: 2000 });
    lanes.poll.client = poll;
    lanes['long-poll'].client = longPoll;
    lanes.sse.client = sse;
    lanes.ws.client = ws;
    poll.start();
    longPoll.start();
    sse.open(since);
    ws.open(since);
  }

  /** The page's own pill: open when all four are, else the worst of them. */
  function overall() {
    if (!lanes.poll.client) return;
    const states = KEYS.map((k) => lanes[k].status.dataset.state);
    if (states.every((s) => s === 'open')) {
      PL.setStatus(status, 'open', 'all four connected');
      if (laneError) PL.showError('');
      laneError = false;
    } else if (states.some((s) => s === 'error' || s === 'closed')) {
      const bad = KEYS.filter((k) => lanes[k].status.dataset.state !== 'open').map((k) => NAMES[k]);
      PL.setStatus(status, 'error', 'trouble: ' + bad.join(', '));
    } else {
      PL.setStatus(status, 'connecting', 'connecting…');
    }
  }

  PL.$('#reset').addEventListener('click', () => {
    for (const key of KEYS) lanes[key].stats.reset();
  });

  PL.page('compare', {
    onTopic: join,
    onSend: async (text) => {
      const r = await PL.publish(topic, text);
      return 'published once as #' + r.id + ' — watch it arrive four times';
    },
  });

  setInterval(() => {
    for (const key of KEYS) lanes[key].view.render();
    overall();
  }, 250);
})();
