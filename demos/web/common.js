// pushlab demo clients — shared helpers.
//
// A classic script (no modules, no build step) that defines one global, `PL`. Every page
// loads it first, then `transports.js` (the four clients), then its own script.
//
// Interface:
//   PL.topicFromUrl(), PL.validTopic(t)            — the topic (default "chat"), SPEC §2
//   PL.publish(topic, text)                         — POST /publish, SPEC §3
//   PL.getJson(url, {signal, stats})                — a counted GET: requests and bytes
//   PL.startCursor(topic, signal)                   — where a page starts reading (see below)
//   PL.Stats, PL.StatsView                          — the cost panel: requests, bytes, delay
//   PL.MessageList                                  — #messages: one li.item > span.msg each
//   PL.SendClock                                    — send times of this page's own messages
//   PL.page(name, {onTopic, onSend})                — wires the header, topic box and send box
//
// Data from the network only ever reaches the page through textContent, never innerHTML.
'use strict';

(function (root) {
  const DEFAULT_TOPIC = 'chat';
  // SPEC §2: a topic is 1–64 characters of [A-Za-z0-9._-].
  const TOPIC_RE = /^[A-Za-z0-9._-]{1,64}$/;
  // How many recent messages a page shows when it opens (URL parameter `history`).
  const DEFAULT_HISTORY = 20;
  // List items kept on screen; older ones are removed so a long session stays light.
  const MAX_ITEMS = 500;

  const encoder = new TextEncoder();

  // ---------------------------------------------------------------- small pure helpers

  function utf8Length(s) {
    return encoder.encode(s).length;
  }

  function validTopic(t) {
    return typeof t === 'string' && TOPIC_RE.test(t);
  }

  function searchParams() {
    return new URLSearchParams(root.location ? root.location.search : '');
  }

  function topicFromUrl() {
    const t = searchParams().get('topic');
    return t === null || t === '' ? DEFAULT_TOPIC : t;
  }

  /** A non-negative integer URL parameter, or `fallback` when absent or not plain digits. */
  function intParam(name, fallback) {
    const v = searchParams().get(name);
    return v !== null && /^\d{1,15}$/.test(v) ? Number(v) : fallback;
  }

  function fmtInt(n) {
    return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  function fmtBytes(n) {
    if (n == null) return '–';
    if (n < 10 * 1024 * 1024) return fmtInt(n) + ' B';
    return (n / (1024 * 1024)).toFixed(2) + ' MiB';
  }

  function fmtMs(ms) {
    if (ms == null || !Number.isFinite(ms)) return '–';
    if (Math.abs(ms) < 10) return ms.toFixed(1) + ' ms';
    if (Math.abs(ms) < 10000) return Math.round(ms) + ' ms';
    return (ms / 1000).toFixed(1) + ' s';
  }

  function fmtRatio(x, digits) {
    if (x == null || !Number.isFinite(x)) return '–';
    return x.toFixed(digits === undefined ? 1 : digits);
  }

  /** Wall-clock time of day with milliseconds, for logs: 21:38:04.123 */
  function fmtClock(ms) {
    const d = new Date(ms);
    const p = (n, w) => String(n).padStart(w, '0');
    return p(d.getHours(), 2) + ':' + p(d.getMinutes(), 2) + ':' + p(d.getSeconds(), 2) +
      '.' + p(d.getMilliseconds(), 3);
  }

  /** Resolves after `ms`, or at once when `signal` aborts. */
  function sleep(ms, signal) {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        if (signal) signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      if (signal) signal.addEventListener('abort', done);
    });
  }

  // ---------------------------------------------------------------- what bytes cost

  /**
   * Bytes of a response head, rebuilt from what fetch exposes: the status line plus every
   * header as `name: value\r\n`, plus the blank line. For a same-origin response fetch shows
   * every header (RFC 9110 field names are case-insensitive, so the lower-casing keeps the
   * length), so for pushlab's Content-Length responses this is the exact size on the wire,
   * give or take repeated headers that fetch joins with ", ".
   */
  function headBytes(response) {
    let n = utf8Length('HTTP/1.1 ' + response.status + ' ' + response.statusText + '\r\n') + 2;
    response.headers.forEach((value, name) => { n += utf8Length(name + ': ' + value + '\r\n'); });
    return n;
  }

  /**
   * Estimated wire size of one SSE event as pushlab writes it (SPEC §6): `id: N`, one
   * `data: ` line per line of text, a blank line — all inside one HTTP/1.1 chunk
   * (RFC 9112 §7.1: hex size CRLF, data, CRLF). EventSource hides the real bytes.
   */
  function sseEventBytes(id, data) {
    const lines = String(data).split(/\r\n|\r|\n/);
    let event = 'id: ' + id + '\n';
    for (const line of lines) event += 'data: ' + line + '\n';
    event += '\n';
    const n = utf8Length(event);
    return n.toString(16).length + 2 + n + 2;
  }

  /**
   * Size of one WebSocket frame carrying `payloadLength` bytes (RFC 6455 §5.2): 2 header
   * bytes, +2 or +8 for the extended length, +4 for the masking key on client frames.
   */
  function wsFrameBytes(payloadLength, masked) {
    let n = 2 + payloadLength;
    if (payloadLength >= 65536) n += 8;
    else if (payloadLength >= 126) n += 2;
    if (masked) n += 4;
    return n;
  }

  /**
   * The 101 response a browser receives for a WebSocket upgrade (RFC 6455 §4.2.2, plus the
   * Date and Server headers pushlab puts on every response). Pages never see it: an estimate.
   */
  const WS_HANDSHAKE_BYTES = utf8Length(
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
    'Date: Sun, 23 Nov 2025 21:38:04 GMT\r\n' +
    'Server: pushlab\r\n' +
    '\r\n');

  // ---------------------------------------------------------------- errors

  /** An HTTP reply that was not 2xx: status, reason phrase and the server's reason text. */
  class HttpError extends Error {
    constructor(status, statusText, body) {
      const reason = (body || '').trim().slice(0, 300);
      super('HTTP ' + status + (statusText ? ' ' + statusText : '') + (reason ? ': ' + reason : ''));
      this.name = 'HttpError';
      this.status = status;
    }
    /** Worth asking again unchanged? 4xx means the request itself is wrong (but 408, 429). */
    get retriable() {
      return this.status >= 500 || this.status === 408 || this.status === 429;
    }
  }

  function isAbort(err) {
    return err && err.name === 'AbortError';
  }

  /** A sentence a reader can act on, for any error a fetch or our parsing can throw. */
  function describeError(err) {
    if (err instanceof HttpError) return err.message;
    if (err instanceof TypeError) return 'server unreachable (' + err.message + ') — is pushlab running?';
    if (err instanceof SyntaxError) return 'the reply is not the JSON the contract promises: ' + err.message;
    return String(err && err.message ? err.message : err);
  }

  function retriable(err) {
    return !(err instanceof HttpError) || err.retriable;
  }

  // ---------------------------------------------------------------- HTTP

  const decoder = new TextDecoder();

  /**
   * GET `url` and parse its JSON body. Counts one request and the bytes received (head
   * rebuilt by headBytes + exact body length) into `stats` when given. Throws HttpError
   * (non-2xx, with the server's reason text), TypeError (network), SyntaxError (bad JSON) or
   * AbortError.
   */
  async function getJson(url, { signal, stats } = {}) {
    if (stats) stats.requests += 1;
    const response = await fetch(url, { signal, cache: 'no-store' });
    const body = new Uint8Array(await response.arrayBuffer());
    if (stats) stats.bytes += headBytes(response) + body.length;
    const text = decoder.decode(body);
    if (!response.ok) throw new HttpError(response.status, response.statusText, text);
    return JSON.parse(text);
  }

  /** POST /publish?topic=T with the text as body (SPEC §3). Resolves to {id, topic}. */
  async function publish(topic, text) {
    const response = await fetch('/publish?topic=' + encodeURIComponent(topic), {
      method: 'POST',
      body: text,
    });
    const body = await response.text();
    if (!response.ok) throw new HttpError(response.status, response.statusText, body);
    return JSON.parse(body);
  }

  /**
   * Where a page starts reading. `since` in the page's URL wins. Otherwise one uncounted
   * `GET /poll?topic=T&limit=1` without a cursor answers the topic's latest id L (SPEC §4:
   * "from now" returns nothing old and next = latest), and the page starts at L − history,
   * so it shows the last few messages — and, since everything published after that request
   * has an id > L, nothing published after the page opened can slip past it.
   * Resolves to {since, latest} (latest is null when the URL gave `since`).
   */
  async function startCursor(topic, signal, history) {
    const explicit = intParam('since', null);
    if (explicit !== null) return { since: explicit, latest: null };
    const reply = await getJson('/poll?topic=' + encodeURIComponent(topic) + '&limit=1', { signal });
    const latest = Number(reply.next) || 0;
    const h = history === undefined ? intParam('history', DEFAULT_HISTORY) : history;
    return { since: Math.max(0, latest - h), latest };
  }

  // ---------------------------------------------------------------- the cost panel

  /**
   * What one transport has cost so far. Plain fields, incremented by whoever knows:
   * requests (HTTP requests or connection attempts), bytes (received), messages (delivered
   * to the list), and named counters (empty replies, timeouts, errors, …) in `counts`.
   * Delay is publish → display: Date.now() − message.time, both clocks of this machine.
   */
  class Stats {
    constructor() { this.reset(); }

    reset() {
      this.since = Date.now();
      this.requests = 0;
      this.bytes = 0;
      this.messages = 0;
      this.counts = Object.create(null);
      this.delayCount = 0;
      this.delaySum = 0;
      this.delayLast = null;
      this.delayMax = null;
      this.samples = [];
    }

    count(name, n) {
      this.counts[name] = (this.counts[name] || 0) + (n === undefined ? 1 : n);
    }

    addDelay(ms) {
      this.delayCount += 1;
      this.delaySum += ms;
      this.delayLast = ms;
      this.delayMax = this.delayMax === null ? ms : Math.max(this.delayMax, ms);
    }

    get delayAvg() {
      return this.delayCount ? this.delaySum / this.delayCount : null;
    }

    /**
     * Requests made in the last 60 s (all of them, while the counters are younger than
     * that): the rate that shows what an idle page costs. Sampled once a second.
     */
    requestsLastMinute(now) {
      const s = this.samples;
      if (!s.length || now - s[s.length - 1][0] >= 1000) s.push([now, this.requests]);
      const cutoff = now - 60000;
      // Keep the newest sample at or before the cutoff: the count when the window opened.
      while (s.length > 1 && s[1][0] <= cutoff) s.shift();
      if (now - this.since < 60000) return this.requests;
      return this.requests - s[0][1];
    }

    /** Every displayable value, formatted, keyed as in the pages' data-stat attributes. */
    snapshot(now) {
      if (now === undefined) now = Date.now();
      const out = {
        requests: fmtInt(this.requests),
        bytes: fmtBytes(this.bytes),
        messages: fmtInt(this.messages),
        'delay-last': fmtMs(this.delayLast),
        'delay-avg': fmtMs(this.delayAvg),
        'delay-max': fmtMs(this.delayMax),
        'delay-count': fmtInt(this.delayCount),
        'requests-per-msg': this.messages ? fmtRatio(this.requests / this.messages, 2) : '–',
        'bytes-per-msg': this.messages ? fmtInt(this.bytes / this.messages) + ' B' : '–',
        'requests-last-min': fmtInt(this.requestsLastMinute(now)),
        elapsed: fmtMs(now - this.since),
      };
      for (const k of Object.keys(this.counts)) out[k] = fmtInt(this.counts[k]);
      return out;
    }
  }

  /** Writes a Stats snapshot into every `[data-stat=key]` element under `rootEl`. */
  class StatsView {
    constructor(rootEl, stats) {
      this.root = rootEl;
      this.stats = stats;
    }
    render() {
      const snap = this.stats.snapshot();
      for (const el of this.root.querySelectorAll('[data-stat]')) {
        const v = snap[el.dataset.stat];
        el.textContent = v === undefined ? '0' : v;
      }
    }
  }

  // ---------------------------------------------------------------- messages on screen

  /**
   * Follows the ids of one stream. SPEC §2: ids are consecutive per topic, so a jump is a
   * loss, and an id at or below the last one seen means the topic's ids started again
   * (the server restarted and lost its memory). Returns what happened.
   */
  class IdTracker {
    constructor(since) { this.last = since == null ? null : since; }
    observe(id) {
      const prev = this.last;
      this.last = id;
      if (prev === null || id === prev + 1) return { kind: 'next' };
      if (id > prev + 1) return { kind: 'gap', from: prev + 1, to: id - 1 };
      return { kind: 'restart', prev };
    }
  }

  /**
   * The message list. Each message becomes
   *   <li class="item" data-id="7"><span class="meta">…</span><span class="msg">text</span></li>
   * so `#messages .msg` holds exactly the message text. Markers (gaps, restarts, notes) are
   * `li.marker` and never carry class msg.
   */
  class MessageList {
    constructor(listEl, max) {
      this.el = listEl;
      this.max = max || MAX_ITEMS;
      this.ids = new IdTracker(null);
      // The list follows new items while the reader is at its bottom. Where the reader is
      // comes from scroll events, not from measuring before every item: a measurement after
      // a change forces a layout, and a burst of 100 messages would pay for 100 of them.
      this.box = listEl.closest('.scroll') || listEl;
      this.follow = true;
      this.ownScroll = false; // the next scroll event is this list's own doing
      this.scrollPending = false;
      this.box.addEventListener('scroll', () => {
        if (this.ownScroll) {
          this.ownScroll = false;
          return;
        }
        const b = this.box;
        this.follow = b.scrollHeight - b.scrollTop - b.clientHeight < 40;
      }, { passive: true });
    }

    clear(since) {
      this.el.replaceChildren();
      this.ids = new IdTracker(since);
      this.follow = true;
    }

    _append(li) {
      this.el.appendChild(li);
      while (this.el.childElementCount > this.max) this.el.firstElementChild.remove();
      if (this.follow && !this.scrollPending) {
        // Once per frame, however many items came in it.
        this.scrollPending = true;
        requestAnimationFrame(() => {
          this.scrollPending = false;
          if (!this.follow) return;
          const b = this.box;
          const top = b.scrollTop;
          b.scrollTop = b.scrollHeight;
          if (b.scrollTop !== top) this.ownScroll = true;
        });
      }
    }

    marker(text, kind) {
      const li = document.createElement('li');
      li.className = 'marker ' + (kind || 'note');
      li.textContent = text;
      this._append(li);
      return li;
    }

    /**
     * Shows message {id, data}. `meta` is the small text before it (delay, "history", …).
     * Returns the li, whose `.meta` span the caller may update later.
     */
    add(msg, meta, extraClass) {
      const seen = this.ids.observe(msg.id);
      if (seen.kind === 'gap') {
        this.marker(seen.from === seen.to
          ? 'id ' + seen.from + ' never arrived (no longer retained?)'
          : 'ids ' + seen.from + '–' + seen.to + ' never arrived (no longer retained?)', 'gap');
      } else if (seen.kind === 'restart') {
        this.marker('ids started again at ' + msg.id + ' (after ' + seen.prev + '): the server restarted', 'restart');
      }
      const li = document.createElement('li');
      li.className = 'item' + (extraClass ? ' ' + extraClass : '');
      li.dataset.id = String(msg.id);
      const m = document.createElement('span');
      m.className = 'meta';
      const idEl = document.createElement('span');
      idEl.className = 'mid';
      idEl.textContent = '#' + msg.id;
      const info = document.createElement('span');
      info.className = 'minfo';
      info.textContent = meta || '';
      m.append(idEl, info);
      const text = document.createElement('span');
      text.className = 'msg';
      text.textContent = msg.data;
      li.append(m, text);
      this._append(li);
      return li;
    }
  }

  /** Sets the meta text of an li made by MessageList.add. */
  function setMeta(li, text) {
    const info = li && li.querySelector('.minfo');
    if (info) info.textContent = text;
  }

  /**
   * Send times of the messages this page published, to measure delay where the message
   * itself carries no time (SSE). A message is matched by id once the publish reply told us
   * its id, else by text — the event can arrive before the POST's reply does.
   * The delay measured is send click → display, so it includes the POST's own trip.
   */
  class SendClock {
    constructor() { this.pending = []; }

    mark(text, now) {
      const entry = { text, t: now === undefined ? Date.now() : now, id: null };
      this.pending.push(entry);
      if (this.pending.length > 200) this.pending.shift();
      return entry;
    }

    confirm(entry, id) { entry.id = id; }

    forget(entry) {
      const i = this.pending.indexOf(entry);
      if (i >= 0) this.pending.splice(i, 1);
    }

    /** The send time of message (id, text) if this page sent it, else null. */
    take(id, text) {
      let i = this.pending.findIndex((e) => e.id === id);
      if (i < 0) i = this.pending.findIndex((e) => e.id === null && e.text === text);
      if (i < 0) return null;
      const [e] = this.pending.splice(i, 1);
      return e.t;
    }
  }

  // ---------------------------------------------------------------- page wiring

  function $(sel) { return document.querySelector(sel); }

  /** Sets a status pill: data-state is one of connecting, open, closed, error. */
  function setStatus(el, state, text) {
    if (!el) return;
    el.dataset.state = state;
    el.textContent = text;
    el.title = text;
  }

  function showError(text) {
    const el = $('#error');
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
  }

  /**
   * Wires what every page shares: the nav (current page marked, topic carried along),
   * the topic form (#topic-form, #topic, #join), the send form (#send-form, #text, #send,
   * #send-status) and the error line (#error). Calls onTopic(topic) now and whenever the
   * reader joins another topic; onSend(text) must return a promise of a short result text.
   */
  function page(name, { onTopic, onSend }) {
    const topicInput = $('#topic');
    let topic = topicFromUrl();
    topicInput.value = topic;

    function updateNav() {
      for (const a of document.querySelectorAll('header.site nav a[data-page]')) {
        const base = a.dataset.page === 'index' ? '/' : a.dataset.page + '.html';
        a.href = a.dataset.page === 'index' ? base : base + '?topic=' + encodeURIComponent(topic);
        if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
      }
    }

    function join(t) {
      topic = t;
      if (!validTopic(t)) {
        showError('“' + t + '” is not a valid topic (1–64 of A–Z a–z 0–9 . _ -); the server will answer 400.');
      } else {
        showError('');
      }
      const url = new URL(location.href);
      url.searchParams.set('topic', t);
      url.searchParams.delete('since');
      history.replaceState(null, '', url);
      updateNav();
      onTopic(t);
    }

    $('#topic-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      join(topicInput.value.trim() || DEFAULT_TOPIC);
    });

    const text = $('#text');
    const sendStatus = $('#send-status');
    $('#send-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const value = text.value;
      if (value === '') {
        sendStatus.textContent = 'type a message first (the server refuses an empty body with 400)';
        return;
      }
      sendStatus.textContent = 'sending…';
      try {
        const result = await onSend(value);
        if (text.value === value) text.value = '';
        sendStatus.textContent = result || 'sent';
      } catch (err) {
        sendStatus.textContent = 'not sent: ' + describeError(err);
        showError('send failed: ' + describeError(err));
      }
    });
    // Enter sends; Shift+Enter makes a new line (a multi-line message is one event of
    // several data: lines over SSE).
    text.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        $('#send-form').requestSubmit();
      }
    });

    updateNav();
    // Start after the page script has finished defining its functions.
    queueMicrotask(() => join(topic));
    return { get topic() { return topic; } };
  }

  const PL = {
    DEFAULT_TOPIC, DEFAULT_HISTORY, TOPIC_RE, WS_HANDSHAKE_BYTES,
    utf8Length, validTopic, topicFromUrl, intParam,
    fmtInt, fmtBytes, fmtMs, fmtRatio, fmtClock, sleep,
    headBytes, sseEventBytes, wsFrameBytes,
    HttpError, isAbort, describeError, retriable,
    getJson, publish, startCursor,
    Stats, StatsView, IdTracker, MessageList, setMeta, SendClock,
    $, setStatus, showError, page,
  };
  root.PL = PL;
  if (typeof module !== 'undefined' && module.exports) module.exports = PL;
})(typeof window !== 'undefined' ? window : globalThis);
