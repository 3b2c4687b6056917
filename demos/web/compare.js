// Comparison page: the four clients of transports.js on one topic, from one cursor, each
// with its own counters, latency chart, loss count and recovery line; and three experiments
// on all four at once: cut, burst, idle minute. Loaded after common.js and transports.js.
//
// Everything a test needs is in window.__pushlab.state() (plain JSON), so tests read the
// page's numbers instead of its text.
'use strict';

(function () {
  const KEYS = ['poll', 'long-poll', 'sse', 'ws'];
  const NAMES = { poll: 'short polling', 'long-poll': 'long polling', sse: 'SSE', ws: 'WebSocket' };
  const CHART_SAMPLES = 60;
  const BURST_SIZE = 100;
  const BURST_PARALLEL = 2; // POSTs in flight at once: leaves the browser's six connections room
  const WS_RECONNECT_MS = 2000;
  const MAX_IDS = 10000; // ids remembered per column, to tell a duplicate
  const IDLE_MS = Math.max(1, PL.intParam('idle', 60)) * 1000;
  // ---------------------------------------------------------------- columns

  /** Fills each transport's column from the one template; the section says what differs. */
  for (const section of document.querySelectorAll('section[data-transport]')) {
    const key = section.dataset.transport;
    const d = section.dataset;
    section.append(PL.$('#lane').content.cloneNode(true));
    section.querySelector('[data-slot="title"]').textContent = d.title;
    section.querySelector('[data-slot="path"]').textContent = d.path;
    section.querySelector('.status').id = 'status-' + key;
    section.querySelector('button.cut').dataset.cut = key;
    const canvas = section.querySelector('canvas.latency');
    canvas.dataset.chart = key;
    canvas.setAttribute('aria-label', d.title + ': latency of the last 60 messages');
    section.querySelector('[data-recovery]').dataset.recovery = key;
    section.querySelector('[data-episode]').dataset.episode = key;
    const extra = section.querySelector('[data-slot="extra"]');
    extra.querySelector('th').textContent = d.extraLabel;
    extra.querySelector('td').dataset.stat = d.extraStat;
    extra.removeAttribute('data-slot');
    // SSE's bytes are estimated: an EventSource does not expose the chunked framing.
    for (const th of section.querySelectorAll('[data-slot="approx"]')) {
      if ('approx' in d) th.textContent += ' ≈';
      th.removeAttribute('data-slot');
    }
    section.querySelector('ol.messages').id = 'messages-' + key;
  }

  const status = PL.$('#status');
  const intervalInput = PL.$('#interval');
  const timeoutInput = PL.$('#timeout');
  const burstButton = PL.$('#burst');
  const idleButton = PL.$('#idle');
  const sendButton = PL.$('#send');

  // ---------------------------------------------------------------- the latency chart

  /** The p-quantile (0..1) of `sorted` by nearest rank, or null when empty. */
  function quantile(sorted, p) {
    if (!sorted.length) return null;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  }

  // One log scale for every column, so columns compare at a glance: 0.3 ms at the bottom,
  // 30 s at the top; a message under 0.3 ms still gets a stub of a bar.
  const LOG_LO = Math.log10(0.3);
  const LOG_HI = Math.log10(30000);
  const TICKS = [[1, '1 ms'], [10, '10 ms'], [100, '100 ms'], [1000, '1 s'], [10000, '10 s']];

  /** A bar per message, last CHART_SAMPLES, with its median and p95 as lines, on a canvas. */
  class LatencyChart {
    constructor(canvas) {
      this.canvas = canvas;
      this.samples = [];
      this.timer = null;
      if (typeof ResizeObserver === 'function') new ResizeObserver(() => this.draw()).observe(canvas);
    }

    add(ms) {
      this.samples.push(ms);
      if (this.samples.length > CHART_SAMPLES) this.samples.shift();
      this.schedule();
    }

    clear() {
      this.samples = [];
      this.schedule();
    }

    /** {median, p95} of the samples shown, in ms (null when there are none). */
    summary() {
      const sorted = this.samples.slice().sort((a, b) => a - b);
      return { median: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
    }

    /** Many messages can arrive in one turn (a burst): draw once, a little later. */
    schedule() {
      if (this.timer === null) this.timer = setTimeout(() => { this.timer = null; this.draw(); }, 40);
    }

    draw() {
      const c = this.canvas;
      const cssW = c.clientWidth;
      const cssH = c.clientHeight;
      if (!cssW || !cssH) return;
      const dpr = window.devicePixelRatio || 1;
      if (c.width !== Math.round(cssW * dpr) || c.height !== Math.round(cssH * dpr)) {
        c.width = Math.round(cssW * dpr);
        c.height = Math.round(cssH * dpr);
      }
      const g = c.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, cssW, cssH);
      const css = getComputedStyle(c);
      const color = (name) => css.getPropertyValue(name).trim() || '#888';
      const left = 40;
      const top = 6;
      const bottom = cssH - 4;
      const y = (ms) => {
        const v = Math.min(Math.max(Math.log10(Math.max(ms, 0.01)), LOG_LO), LOG_HI);
        return bottom - (v - LOG_LO) / (LOG_HI - LOG_LO) * (bottom - top);
      };

      g.font = '10px ' + (css.getPropertyValue('--mono').trim() || 'monospace');
      g.textBaseline = 'middle';
      g.textAlign = 'right';
      g.lineWidth = 1;
      for (const [ms, label] of TICKS) {
        const ty = Math.round(y(ms)) + 0.5;
        g.strokeStyle = color('--border');
        g.beginPath();
        g.moveTo(left, ty);
        g.lineTo(cssW, ty);
        g.stroke();
        g.fillStyle = color('--muted');
        g.fillText(label, left - 4, ty);
      }

      const slot = (cssW - left) / CHART_SAMPLES;
      const barW = Math.max(1, slot - 1);
      g.fillStyle = color('--accent');
      g.globalAlpha = 0.55;
      this.samples.forEach((ms, i) => {
        const x = left + i * slot;
        const by = Math.min(y(ms), bottom - 2);
        g.fillRect(x, by, barW, bottom - by);
      });
      g.globalAlpha = 1;

      const { median, p95 } = this.summary();
      const line = (ms, dash, name) => {
        if (ms === null) return;
        const ly = Math.round(y(ms)) + 0.5;
        g.strokeStyle = color(name);
        g.lineWidth = 1.5;
        g.setLineDash(dash);
        g.beginPath();
        g.moveTo(left, ly);
        g.lineTo(cssW, ly);
        g.stroke();
        g.setLineDash([]);
      };
      line(p95, [2, 2], '--warn');
      line(median, [5, 3], '--fg');
      c.setAttribute('aria-label', c.dataset.label + ': ' + (median === null ? 'no messages yet'
        : 'median ' + PL.fmtMs(median) + ', p95 ' + PL.fmtMs(p95) + ' over the last ' + this.samples.length));
    }
  }

  // ---------------------------------------------------------------- lanes

  /**
   * Per transport: its counters and their view, its list, status pill, chart, client, and
   * what it has seen: the ids in arrival order, missed (id jumps) and duplicates.
   */
  const lanes = {};
  for (const key of KEYS) {
    const root = document.querySelector('[data-transport="' + key + '"]');
    const stats = new PL.Stats();
    const canvas = root.querySelector('canvas[data-chart]');
    canvas.dataset.label = NAMES[key];
    lanes[key] = {
      key,
      root,
      stats,
      view: new PL.StatsView(root, stats),
      list: new PL.MessageList(PL.$('#messages-' + key)),
      status: PL.$('#status-' + key),
      chart: new LatencyChart(canvas),
      recoveryEl: root.querySelector('[data-recovery]'),
      episodeEl: root.querySelector('[data-episode]'),
      client: null,
      ids: [],
      seen: new Set(),
      times: new Map(), // id → publish time, for the ids seen with one
      last: null,
      missed: 0,
      duplicates: 0,
      recovery: null,
      burst: null,
      idle: null,
    };
  }

  function resetLane(lane, since) {
    lane.stats.reset();
    lane.chart.clear();
    lane.ids = [];
    lane.seen = new Set();
    lane.times = new Map();
    lane.last = since;
    lane.missed = 0;
    lane.duplicates = 0;
    lane.recovery = null;
    lane.burst = null;
    lane.idle = null;
  }

  /**
   * Follows the ids one column receives. SPEC §2: ids are consecutive per topic, so an id
   * more than one past the last is a loss; an id already seen is a duplicate. Returns false
   * for a duplicate (not shown again).
   */
  function track(lane, id) {
    if (lane.seen.has(id)) {
      lane.duplicates += 1;
      return false;
    }
    if (lane.last !== null && id > lane.last + 1) lane.missed += id - lane.last - 1;
    else if (lane.last !== null && id < lane.last) lane.missed = Math.max(0, lane.missed - 1); // late, not lost
    lane.seen.add(id);
    lane.ids.push(id);
    if (lane.last === null || id > lane.last) lane.last = id;
    if (lane.ids.length > MAX_IDS) {
      // A long session stays light: keep the newest half; older duplicates go unnoticed.
      lane.ids = lane.ids.slice(-MAX_IDS / 2);
      lane.seen = new Set(lane.ids);
    }
    return true;
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
    lanes.sse.chart.add(d);
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

  // ---- a server restart: ids start again at 1 (SPEC §2: the hub lives in memory)

  /** Forgets the ids every column has seen: from now on they are a new sequence. */
  function serverRestarted() {
    for (const key of KEYS) {
      const lane = lanes[key];
      lane.ids = [];
      lane.seen = new Set();
      lane.times = new Map();
      lane.last = null;
    }
    timeById.clear();
    sseWaiting.clear();
  }

  /**
   * A message whose id this column has seen, but with another publish time, is not a
   * duplicate: the server restarted and gave the id again. (An SSE event carries no time;
   * the pollers notice a restart first anyway, at their next reply.)
   */
  function reusedId(lane, m) {
    if (typeof m.time !== 'number' || !lane.seen.has(m.id)) return false;
    const known = lane.times.get(m.id);
    return known !== undefined && known !== m.time;
  }

  // ---- what a message does to its column

  function deliver(lane, m) {
    const now = Date.now();
    if (reusedId(lane, m)) serverRestarted();
    if (typeof m.time === 'number') remember(lane.times, m.id, m.time);
    if (!track(lane, m.id)) {
      lane.list.marker('#' + m.id + ' arrived again: a duplicate', 'gap');
      return;
    }
    if (lane.key === 'sse') {
      deliverSse(m);
    } else {
      const d = PL.showTimed(lane.list, lane.stats, m, sessionStart);
      if (d !== null) lane.chart.add(d);
      learnTime(m);
    }
    const r = lane.recovery;
    if (r && r.nextId === null) {
      r.nextId = m.id;
      r.nextAt = now;
    }
    if (lane.burst && typeof m.data === 'string' && m.data.startsWith(lane.burst.tag)) {
      lane.burst.received += 1;
      if (lane.burst.received === BURST_SIZE) {
        lane.burst.doneAt = now;
        lane.burst.requests = lane.stats.requests - lane.burst.requestsBefore;
      }
    }
    if (lane.idle && lane.idle.endAt === null) lane.idle.messages += 1;
  }

  // ---------------------------------------------------------------- the session

  let ctrl = null;
  let topic = PL.DEFAULT_TOPIC;
  let startSince = null;
  let laneError = false; // #error holds a transport's trouble, to clear when all are well

  function hooksFor(key) {
    const lane = lanes[key];
    return {
      onState(state, text) { PL.setStatus(lane.status, state, text); },
      onError(text) {
        laneError = true;
        PL.showError(NAMES[key] + ': ' + text);
      },
      onNotice(text) {
        // The pollers' only notice: their cursor is past the topic's latest id.
        lane.list.marker(text, 'restart');
        serverRestarted();
      },
      onMessage(m) {
        deliver(lane, m);
        scheduleRender();
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
    endIdle();
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    sessionStart = Date.now();
    startSince = null;
    timeById.clear();
    sseWaiting.clear();
    for (const key of KEYS) {
      resetLane(lanes[key], null);
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
    startSince = since;
    for (const key of KEYS) {
      resetLane(lanes[key], since);
      lanes[key].list.clear(since);
      lanes[key].list.marker('from id ' + since, 'note');
    }

    const poll = new PL.ShortPoller({ topic: t, since, stats: lanes.poll.stats, interval: intervalMs, hooks: hooksFor('poll') });
    const longPoll = new PL.LongPoller({ topic: t, since, stats: lanes['long-poll'].stats, timeout: timeoutSecs, hooks: hooksFor('long-poll') });
    const sse = new PL.SseClient({ topic: t, stats: lanes.sse.stats, hooks: hooksFor('sse') });
    const ws = new PL.WsClient({ topic: t, stats: lanes.ws.stats, hooks: hooksFor('ws'), reconnectMs: WS_RECONNECT_MS });
    lanes.poll.client = poll;
    lanes['long-poll'].client = longPoll;
    lanes.sse.client = sse;
    lanes.ws.client = ws;
    poll.start();
    longPoll.start();
    sse.open(since);
    ws.open(since);
  }

  /** True when all four are connected (a short poller: its last poll was answered). */
  function allOpen() {
    return lanes.poll.client !== null && KEYS.every((k) => lanes[k].status.dataset.state === 'open');
  }

  /** The page's own pill: open when all four are, else the worst of them. */
  function overall() {
    if (!lanes.poll.client) return;
    const states = KEYS.map((k) => lanes[k].status.dataset.state);
    if (allOpen()) {
      PL.setStatus(status, 'open', 'all four connected');
      if (laneError) PL.showError('');
      laneError = false;
    } else if (states.some((s) => s === 'error')) {
      const bad = KEYS.filter((k) => lanes[k].status.dataset.state !== 'open').map((k) => NAMES[k]);
      PL.setStatus(status, 'error', 'trouble: ' + bad.join(', '));
    } else {
      const down = KEYS.filter((k) => lanes[k].status.dataset.state !== 'open').map((k) => NAMES[k]);
      PL.setStatus(status, 'connecting', 'reconnecting: ' + down.join(', '));
    }
  }

  // ---------------------------------------------------------------- cut

  /**
   * Cuts the connections of `keys`, then publishes one message while they are down: the
   * recovery line of each column then shows when its next message came, and whether the
   * cursor brought back everything (missed unchanged).
   */
  async function cut(keys) {
    if (startSince === null || idle) return;
    const now = Date.now();
    for (const key of keys) {
      const lane = lanes[key];
      if (!lane.client) continue;
      const dropped = lane.client.cut();
      lane.recovery = {
        cutAt: now,
        dropped,
        since: lane.last,
        missedBefore: lane.missed,
        duplicatesBefore: lane.duplicates,
        nextId: null,
        nextAt: null,
        publishedId: null,
      };
      if (dropped) lane.list.marker('cut by the page — resuming from since=' + lane.last, 'restart');
      else lane.list.marker('cut: no request in flight, nothing to drop', 'note');
    }
    renderAll();
    const who = keys.length === KEYS.length ? 'all four' : keys.map((k) => NAMES[k]).join(', ');
    try {
      const r = await PL.publish(topic, 'published while ' + who + ' ' + (keys.length > 1 ? 'were' : 'was') + ' cut');
      for (const key of keys) {
        const rec = lanes[key].recovery;
        if (rec && rec.cutAt === now) rec.publishedId = r.id;
      }
      PL.$('#send-status').textContent = 'cut ' + who + ', then published #' + r.id + ' while down';
    } catch (err) {
      PL.showError('publishing during the cut failed: ' + PL.describeError(err));
    }
  }

  /** The recovery line: {head, detail, state}; state is idle, waiting, ok or bad. */
  function recoveryText(lane) {
    const r = lane.recovery;
    if (!r) return { head: 'Not cut yet', detail: 'press Cut to drop this connection', state: 'idle' };
    const missed = lane.missed - r.missedBefore;
    const dups = lane.duplicates - r.duplicatesBefore;
    const what = r.dropped ? 'cut at ' + PL.fmtClock(r.cutAt).slice(0, 8) : 'nothing was in flight to cut';
    if (r.nextId === null) {
      return { head: 'Down for ' + PL.fmtMs(Date.now() - r.cutAt) + '…', detail: what + '; resuming from since=' + r.since,
        state: 'waiting' };
    }
    const head = 'Next message after ' + PL.fmtMs(r.nextAt - r.cutAt);
    if (missed > 0 || dups > 0) {
      const lost = [missed ? missed + ' missed' : '', dups ? dups + ' duplicated' : ''].filter(Boolean).join(', ');
      return { head, detail: what + '; ' + lost + ' — the ring no longer held them', state: 'bad' };
    }
    const arrived = r.publishedId !== null && lane.seen.has(r.publishedId);
    return {
      head,
      detail: what + (arrived ? '; #' + r.publishedId + ', published while down, arrived' : '') +
        ': 0 missed, thanks to since=' + r.since,
      state: 'ok',
    };
  }

  // ---------------------------------------------------------------- burst

  let burstCount = 0;
  let burstRunning = false;

  /** Publishes BURST_SIZE messages as fast as the page can: BURST_PARALLEL POSTs at a time. */
  async function burst() {
    if (burstRunning || startSince === null || idle) return;
    burstRunning = true;
    burstButton.disabled = true;
    burstCount += 1;
    const t = topic; // a Join meanwhile must not send the rest elsewhere
    const tag = 'burst ' + burstCount + ' · ';
    const startAt = Date.now();
    for (const key of KEYS) {
      const lane = lanes[key];
      lane.idle = null;
      lane.burst = { tag, startAt, received: 0, doneAt: null, requestsBefore: lane.stats.requests, requests: null };
    }
    let next = 1;
    const ids = [];
    const worker = async () => {
      while (next <= BURST_SIZE) {
        const i = next++;
        const r = await PL.publish(t, tag + i + '/' + BURST_SIZE);
        ids.push(r.id);
      }
    };
    try {
      await Promise.all(Array.from({ length: BURST_PARALLEL }, worker));
      PL.$('#send-status').textContent = 'burst ' + burstCount + ': published ' + BURST_SIZE + ' messages (#' +
        Math.min(...ids) + '–#' + Math.max(...ids) + ') in ' + PL.fmtMs(Date.now() - startAt);
    } catch (err) {
      PL.showError('burst failed: ' + PL.describeError(err));
    } finally {
      burstRunning = false;
      burstButton.disabled = idle !== null;
    }
  }

  function burstText(lane) {
    const b = lane.burst;
    const requests = b.requests === null ? lane.stats.requests - b.requestsBefore : b.requests;
    const reqs = requests + (requests === 1 ? ' request' : ' requests');
    if (b.doneAt === null) return 'Burst: ' + b.received + '/' + BURST_SIZE + ' so far, ' + reqs;
    return 'Burst: ' + BURST_SIZE + ' messages in ' + PL.fmtMs(b.doneAt - b.startAt) + ', ' + reqs +
      (requests ? ' (' + PL.fmtRatio(requests / BURST_SIZE, 2) + ' per message)' : '');
  }

  // ---------------------------------------------------------------- idle minute

  let idle = null; // the idle window while it runs: {startAt, timer}

  /** Starts an idle window of IDLE_MS, or ends the one running. */
  function toggleIdle() {
    if (idle) {
      endIdle();
      return;
    }
    if (startSince === null || burstRunning) return;
    const startAt = Date.now();
    idle = { startAt, timer: setTimeout(endIdle, IDLE_MS) };
    for (const key of KEYS) {
      const lane = lanes[key];
      lane.burst = null;
      lane.idle = { startAt, endAt: null, requestsBefore: lane.stats.requests, bytesBefore: lane.stats.bytes,
        requests: 0, bytes: 0, messages: 0 };
    }
    idleButton.setAttribute('aria-pressed', 'true');
    idleButton.textContent = 'Stop idling';
    setPublishing(false);
    PL.$('#send-status').textContent = 'idle: publishing nothing for ' + PL.fmtMs(IDLE_MS) +
      ' — watch what each column still pays';
  }

  /** Ends the idle window; each column keeps what it paid during it. */
  function endIdle() {
    if (!idle) return;
    clearTimeout(idle.timer);
    const endAt = Date.now();
    for (const key of KEYS) {
      const lane = lanes[key];
      const l = lane.idle;
      if (!l || l.endAt !== null) continue;
      l.endAt = endAt;
      l.requests = lane.stats.requests - l.requestsBefore;
      l.bytes = lane.stats.bytes - l.bytesBefore;
    }
    PL.$('#send-status').textContent = 'idle for ' + PL.fmtMs(endAt - idle.startAt) + ': see what each column paid';
    idle = null;
    renderAll();
    idleButton.setAttribute('aria-pressed', 'false');
    idleButton.textContent = 'Idle minute';
    setPublishing(true);
  }

  /** Send, Burst and the Cut buttons (a cut publishes a message) are off while idling. */
  function setPublishing(on) {
    sendButton.disabled = !on;
    burstButton.disabled = !on || burstRunning;
    for (const b of document.querySelectorAll('button.cut')) b.disabled = !on;
  }

  /** What a page cannot count for the streams while idle: their heartbeats (SPEC §6, §7). */
  const UNSEEN = {
    sse: ' + heartbeats a page cannot see (a 19-byte comment every 15 s)',
    ws: ' + pings and pongs a page cannot see (9 B in, 13 B out, every 15 s)',
  };

  function mmss(ms) {
    const secs = Math.round(ms / 1000);
    return Math.floor(secs / 60) + ':' + String(secs % 60).padStart(2, '0');
  }

  function idleText(lane) {
    const l = lane.idle;
    const running = l.endAt === null;
    const requests = running ? lane.stats.requests - l.requestsBefore : l.requests;
    const bytes = running ? lane.stats.bytes - l.bytesBefore : l.bytes;
    const elapsed = (running ? Date.now() : l.endAt) - l.startAt;
    return 'Idle ' + mmss(elapsed) + (running ? ' of ' + mmss(IDLE_MS) : ', done') + ': ' +
      requests + (requests === 1 ? ' request, ' : ' requests, ') + PL.fmtBytes(bytes) + ' received' + (UNSEEN[lane.key] || '') +
      (l.messages ? ' (' + l.messages + ' messages came: not idle)' : '');
  }

  // ---------------------------------------------------------------- the view

  function renderLane(lane) {
    lane.view.render();
    const { median, p95 } = lane.chart.summary();
    const set = (name, text, bad) => {
      const el = lane.root.querySelector('[data-key="' + name + '"]');
      el.textContent = text;
      if (bad !== undefined) el.classList.toggle('bad', bad);
    };
    set('median', PL.fmtMs(median));
    set('p95', PL.fmtMs(p95));
    set('missed', PL.fmtInt(lane.missed), lane.missed > 0);
    set('duplicates', PL.fmtInt(lane.duplicates), lane.duplicates > 0);
    set('reconnects', PL.fmtInt(lane.stats.counts.reconnects || 0));
    const rec = recoveryText(lane);
    const head = document.createElement('strong');
    head.textContent = rec.head;
    lane.recoveryEl.replaceChildren(head, rec.detail);
    lane.recoveryEl.dataset.state = rec.state;
    const episode = lane.idle ? idleText(lane) : lane.burst ? burstText(lane) : '';
    lane.episodeEl.textContent = episode;
    lane.episodeEl.hidden = episode === '';
  }

  PL.$('#reset').addEventListener('click', () => {
    for (const key of KEYS) {
      const lane = lanes[key];
      lane.stats.reset();
      lane.chart.clear();
      lane.missed = 0;
      lane.duplicates = 0;
      lane.recovery = null;
      lane.burst = null;
    }
  });
  for (const button of document.querySelectorAll('button[data-cut]')) {
    button.addEventListener('click', () => cut([button.dataset.cut]));
  }
  PL.$('#cut-all').addEventListener('click', () => cut(KEYS));
  burstButton.addEventListener('click', burst);
  idleButton.addEventListener('click', toggleIdle);

  PL.page('compare', {
    onTopic: join,
    onSend: async (text) => {
      if (idle) throw new Error('idle minute running: press Stop idling first');
      const r = await PL.publish(topic, text);
      return 'published once as #' + r.id + ' — watch it arrive four times';
    },
  });

  function renderAll() {
    clearTimeout(renderTimer);
    renderTimer = null;
    for (const key of KEYS) renderLane(lanes[key]);
    overall();
  }

  // A burst delivers 400 messages in a second: the columns are redrawn at most every 50 ms.
  let renderTimer = null;
  function scheduleRender() {
    if (renderTimer === null) renderTimer = setTimeout(renderAll, 50);
  }

  setInterval(renderAll, 250);

  // ---------------------------------------------------------------- for tests and the console

  window.__pushlab = {
    /** Everything the page knows, as plain JSON. */
    state() {
      renderAll(); // the page shows what this returns
      const out = { topic, since: startSince, ready: allOpen(), burstRunning, idleRunning: idle !== null,
        idleMs: IDLE_MS, lanes: {} };
      for (const key of KEYS) {
        const lane = lanes[key];
        const { median, p95 } = lane.chart.summary();
        out.lanes[key] = {
          state: lane.status.dataset.state,
          ids: lane.ids.slice(),
          last: lane.last,
          missed: lane.missed,
          duplicates: lane.duplicates,
          reconnects: lane.stats.counts.reconnects || 0,
          requests: lane.stats.requests,
          bytes: lane.stats.bytes,
          messages: lane.stats.messages,
          samples: lane.chart.samples.length,
          median,
          p95,
          recovery: lane.recovery && Object.assign({}, lane.recovery, {
            publishedArrived: lane.recovery.publishedId !== null && lane.seen.has(lane.recovery.publishedId),
            text: lane.recoveryEl.textContent,
          }),
          burst: lane.burst && Object.assign({}, lane.burst),
          idle: lane.idle && Object.assign({}, lane.idle),
        };
      }
      return out;
    },
  };
})();
