// pushlab demo clients — the four ways to receive, each as a small client class.
//
// Loaded after common.js; adds to the global PL. The single-transport pages and the
// comparison page use the same classes, so the numbers they show are counted the same way.
//
// Every client takes {topic, stats, hooks} and counts into `stats` (a PL.Stats) what it can
// observe: requests (HTTP requests / connection attempts), bytes received, messages.
// Hooks, all optional:
//   onState(state, text)  state ∈ connecting | open | closed | error — for #status
//   onMessage(msg)        msg = {id, data, time?}, in id order
//   onError(text)         something the reader should see
//   onNotice(text)        something worth a line in the message list
//   onExchange(ex, reply) pollers: one finished HTTP exchange {url, response, text, bytes, ms}
//                         and its parsed reply (null when it was refused or malformed)
//   onRequestFailed(url, text)  pollers: a request that got no HTTP reply
//   onFrame(entry)        WebSocket: {dir: '↑'|'↓', kind, len, bytes, text}
//
// Every client also has cut(): it drops the connection as a broken network would (as far as
// a page can) and recovers the way that client recovers from any drop, from its cursor. It
// returns false when there was nothing to cut (a short poller between two polls).
'use strict';

(function (PL) {
  const enc = encodeURIComponent;
  const noop = () => {};
  // The `retry:` pushlab sends first on every stream (SPEC §6): how long a browser waits
  // before it reconnects an EventSource.
  const SSE_RETRY_MS = 3000;

  function withHooks(hooks) {
    return Object.assign({
      onState: noop, onMessage: noop, onError: noop, onNotice: noop, onExchange: noop, onFrame: noop,
      onRequestFailed: noop,
    }, hooks);
  }

  /**
   * Resolves to PL.startCursor's {since, latest}, asking again every 2 s while the server is
   * unreachable or answers 5xx (telling `onWait` why). A 4xx (say, an invalid topic) rejects.
   */
  async function beginWhenReachable(topic, signal, onWait, history) {
    for (;;) {
      try {
        return await PL.startCursor(topic, signal, history);
      } catch (err) {
        if (PL.isAbort(err) || signal.aborted) throw err;
        if (!PL.retriable(err)) throw err;
        onWait(PL.describeError(err) + ' — trying again in 2 s');
        await PL.sleep(2000, signal);
        if (signal.aborted) throw new DOMException('aborted', 'AbortError');
      }
    }
  }

  /** One line for the top of the message list: where this page started reading. */
  function startNote(topic, start) {
    if (start.latest === null) return 'reading “' + topic + '” after id ' + start.since + ' (since from the URL)';
    if (start.latest === 0) return '“' + topic + '” has no messages yet';
    return 'joined “' + topic + '” at id ' + start.latest +
      (start.since < start.latest ? ' — the ' + (start.latest - start.since) + ' before it shown as history' : '');
  }

  /**
   * Delivers a message that carries its publish time (poll, long-poll, WebSocket): shows it,
   * counts it, and records delay = now − msg.time — unless it was published before the page
   * began this session (`sessionStart`), in which case it is history and has no delay.
   * Returns the delay in ms or null.
   */
  function showTimed(list, stats, msg, sessionStart) {
    const li = list.add(msg, '');
    const now = Date.now();
    if (typeof msg.time === 'number' && msg.time >= sessionStart) {
      const d = now - msg.time;
      stats.addDelay(d);
      PL.setMeta(li, PL.fmtMs(d));
      return d;
    }
    li.classList.add('history');
    PL.setMeta(li, 'history');
    return null;
  }

  /** One counted GET of JSON, with everything a wire view wants to show. */
  async function exchange(url, signal, stats) {
    const t0 = performance.now();
    stats.requests += 1;
    const response = await fetch(url, { signal, cache: 'no-store' });
    const body = new Uint8Array(await response.arrayBuffer());
    const bytes = PL.headBytes(response) + body.length;
    stats.bytes += bytes;
    const text = new TextDecoder().decode(body);
    return { url, response, text, bytes, ms: performance.now() - t0 };
  }

  /** Checks a /poll or /long-poll reply against SPEC §4 before anything is shown. */
  function parseReply(ex) {
    if (!ex.response.ok) throw new PL.HttpError(ex.response.status, ex.response.statusText, ex.text);
    const reply = JSON.parse(ex.text);
    if (!reply || !Array.isArray(reply.messages) || typeof reply.next !== 'number') {
      throw new SyntaxError('expected {"topic","messages":[…],"next":N}');
    }
    return reply;
  }

  /** What short and long polling share: the cursor and what a reply does to it. */
  class Poller {
    constructor({ topic, since, stats, hooks, limit }) {
      this.topic = topic;
      this.since = since;
      this.stats = stats;
      this.hooks = withHooks(hooks);
      this.limit = limit || 100;
      this.stopped = true;
      this.ctrl = null;   // the client's life: aborting it stops the loop and its sleeps
      this.req = null;    // the request in flight, if any: aborting it cuts just that request
      this.cutAt = null;  // set by cut(), until the aborted request has been noticed
    }

    start() {
      this.stopped = false;
      this.ctrl = new AbortController();
      this._run();
    }

    stop() {
      this.stopped = true;
      if (this.ctrl) this.ctrl.abort();
      if (this.req) this.req.abort();
    }

    /**
     * Drops the request in flight, as a broken connection would: aborting a fetch closes
     * its connection. The loop goes on from its cursor, as after a network error. Returns
     * false when no request was in flight: between two polls there is nothing to cut.
     */
    cut() {
      if (this.stopped || !this.req) return false;
      this.cutAt = Date.now();
      this.req.abort();
      return true;
    }

    /** One counted GET of `url`, abortable on its own by cut() and with the rest by stop(). */
    async _exchange(url) {
      const req = new AbortController();
      this.req = req;
      try {
        return await exchange(url, req.signal, this.stats);
      } finally {
        if (this.req === req) this.req = null;
      }
    }

    /** Shows a reply's messages and moves the cursor to `next` (SPEC §4). */
    _absorb(reply) {
      for (const m of reply.messages) {
        if (typeof m.id !== 'number') continue;
        this.stats.messages += 1;
        this.hooks.onMessage(m);
      }
      if (reply.messages.length === 0 && reply.next < this.since) {
        // SPEC §2: a cursor beyond the latest id is treated as the latest id.
        this.hooks.onNotice('cursor ' + this.since + ' is past the topic\'s latest id ' + reply.next +
          ' — the server restarted; continuing from ' + reply.next);
      }
      this.since = reply.next;
    }

    /** Checks a reply and shows the exchange on the wire view, good or not. */
    _parse(ex) {
      let reply = null;
      try {
        reply = parseReply(ex);
        return reply;
      } finally {
        this.hooks.onExchange(ex, reply);
      }
    }

    /** Common error path. Returns true when the loop should go on. */
    _failed(err, url) {
      if (this.stopped) return false;
      if (PL.isAbort(err)) {
        if (this.cutAt === null) return false;
        // cut(): the request is gone as if the network broke; ask again from the cursor.
        this.cutAt = null;
        this.stats.count('reconnects');
        return true;
      }
      this.stats.count('errors');
      const text = PL.describeError(err);
      // An HttpError or a bad body was shown by _parse; a network error had no exchange.
      if (err instanceof TypeError) this.hooks.onRequestFailed(url, text);
      this.hooks.onError(text);
      if (!PL.retriable(err)) {
        this.hooks.onState('error', 'stopped: ' + text + ' — fix it and press Join');
        return false;
      }
      this.stats.count('reconnects');
      return true;
    }

    /** What the status pill says while the loop waits to ask again after `err`. */
    _retryText(err, then) {
      return (PL.isAbort(err) ? 'request cut by the page' : PL.describeError(err)) + ' — ' + then +
        ' from since=' + this.since;
    }
  }

  /**
   * Short polling (SPEC §4): GET /poll?topic=T&since=N every `interval()` ms; the server
   * answers at once, news or not. A full page (limit messages) is followed at once.
   */
  class ShortPoller extends Poller {
    constructor(opts) {
      super(opts);
      this.interval = opts.interval || (() => 1000);
    }

    async _run() {
      while (!this.stopped) {
        const url = '/poll?topic=' + enc(this.topic) + '&since=' + this.since + '&limit=' + this.limit;
        let wait = this.interval();
        try {
          const ex = await this._exchange(url);
          if (this.stopped) return;
          const reply = this._parse(ex);
          this.stats.count(reply.messages.length ? 'useful' : 'empty');
          this._absorb(reply);
          if (reply.messages.length >= this.limit) wait = 0;
          this.hooks.onState('open', 'polling every ' + (this.interval() / 1000) + ' s');
        } catch (err) {
          if (!this._failed(err, url)) return;
          this.hooks.onState(PL.isAbort(err) ? 'connecting' : 'error', this._retryText(err, 'polling on'));
        }
        await PL.sleep(wait, this.ctrl.signal);
      }
    }
  }

  /**
   * Long polling (SPEC §5): GET /long-poll?topic=T&since=N&timeout=S, held by the server
   * until there is news or S seconds pass; re-issued at once after every reply, after 1 s
   * after an error.
   */
  class LongPoller extends Poller {
    constructor(opts) {
      super(opts);
      this.timeout = opts.timeout || (() => 25);
      this.heldSince = null;
    }

    async _run() {
      while (!this.stopped) {
        const url = '/long-poll?topic=' + enc(this.topic) + '&since=' + this.since +
          '&timeout=' + this.timeout() + '&limit=' + this.limit;
        this.heldSince = Date.now();
        this.hooks.onState('open', 'request held by the server (since=' + this.since + ')');
        try {
          const ex = await this._exchange(url);
          this.heldSince = null;
          if (this.stopped) return;
          const reply = this._parse(ex);
          // An empty reply is the server's timeout: nothing happened for S seconds.
          this.stats.count(reply.messages.length ? 'useful' : 'timeouts');
          this._absorb(reply);
        } catch (err) {
          this.heldSince = null;
          if (!this._failed(err, url)) return;
          this.hooks.onState(PL.isAbort(err) ? 'connecting' : 'error', this._retryText(err, 'asking again in 1 s'));
          await PL.sleep(1000, this.ctrl.signal);
        }
      }
    }
  }

  /**
   * Server-Sent Events (SPEC §6) through the browser's EventSource. The stream itself is
   * invisible to a page, so bytes are estimated per event (PL.sseEventBytes); the heartbeat
   * comments and the `retry:` line never reach the page at all.
   */
  class SseClient {
    constructor({ topic, stats, hooks }) {
      this.topic = topic;
      this.stats = stats;
      this.hooks = withHooks(hooks);
      this.es = null;
      this.lastId = null;
      this.timer = null;
    }

    url(since) {
      return '/sse?topic=' + enc(this.topic) + (since == null ? '' : '&since=' + since);
    }

    get readyState() {
      return this.es ? this.es.readyState : 2;
    }

    open(since) {
      this.close();
      if (since != null) this.lastId = since;
      const url = this.url(since);
      const es = new EventSource(url);
      this.es = es;
      this.stats.requests += 1;
      this.hooks.onState('connecting', 'CONNECTING');
      es.onopen = () => {
        if (this.es !== es) return;
        this.hooks.onState('open', 'OPEN');
      };
      es.onmessage = (ev) => {
        if (this.es !== es) return;
        if (!/^\d+$/.test(ev.lastEventId)) {
          this.hooks.onError('event without a numeric id: "' + ev.lastEventId + '"');
          return;
        }
        const id = Number(ev.lastEventId);
        this.lastId = id;
        this.stats.messages += 1;
        this.stats.bytes += PL.sseEventBytes(id, ev.data);
        this.hooks.onMessage({ id, data: ev.data });
      };
      es.onerror = () => {
        if (this.es !== es) return;
        if (es.readyState === EventSource.CONNECTING) {
          // WHATWG: on a network error the browser waits the `retry:` time (pushlab sends
          // 3000 ms) and reconnects by itself, with the header Last-Event-ID.
          this.stats.requests += 1;
          this.stats.count('reconnects');
          this.stats.count('auto-reconnects');
          this.hooks.onState('connecting', 'CONNECTING — the browser reconnects by itself' +
            (this.lastId == null ? '' : ', sending Last-Event-ID: ' + this.lastId));
        } else {
          // A non-200 reply or a wrong Content-Type: EventSource gives up for good and
          // tells the page nothing more. Ask the same URL ourselves to learn why.
          this.hooks.onState('error', 'CLOSED — the browser gave up');
          this._diagnose(url);
        }
      };
    }

    /**
     * Drops the stream as a broken connection would, as far as a page can: nothing makes an
     * EventSource reconnect by itself on request, so it is closed, and a new one opens after
     * the `retry:` time pushlab sends (SSE_RETRY_MS) with since= the last id — what the
     * browser's own reconnect does with Last-Event-ID. Returns false when no stream was open.
     */
    cut() {
      if (!this.es) return false;
      this.stats.count('reconnects');
      this.drop(SSE_RETRY_MS);
      return true;
    }

    /** Closes the stream and opens a new one after `ms`, passing the last id as since. */
    drop(ms) {
      this.close();
      this.hooks.onState('closed', 'CLOSED — dropped by the page; reopening in ' + (ms / 1000) +
        ' s with since=' + (this.lastId == null ? '(none)' : this.lastId));
      this.timer = setTimeout(() => { this.timer = null; this.open(this.lastId); }, ms);
    }

    close() {
      clearTimeout(this.timer);
      this.timer = null;
      if (this.es) {
        this.es.onopen = this.es.onmessage = this.es.onerror = null;
        this.es.close();
        this.es = null;
      }
    }

    async _diagnose(url) {
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), 5000);
      try {
        const r = await fetch(url, { signal: ctrl.signal, cache: 'no-store' });
        if (!r.ok) {
          const body = await r.text();
          this.hooks.onError('EventSource closed: ' + new PL.HttpError(r.status, r.statusText, body).message);
        } else {
          const type = r.headers.get('content-type') || '(none)';
          this.hooks.onError('EventSource closed, though the server now answers ' + r.status + ' ' + type +
            ' — press Reconnect');
        }
      } catch (err) {
        if (!PL.isAbort(err)) this.hooks.onError('EventSource closed: ' + PL.describeError(err));
      } finally {
        clearTimeout(timer);
        ctrl.abort();
      }
    }
  }

  /**
   * WebSocket (SPEC §7): GET /ws?topic=T&since=N upgraded; every message of the topic comes
   * as one text frame of message JSON; a text message we send is published. The browser
   * shows whole messages, not frames: fragments arrive reassembled, and ping/pong never
   * reach the page. Sizes below are exact for the frames a message would take unfragmented.
   */
  class WsClient {
    /**
     * `reconnectMs`: when set, a connection that closes without the page asking is opened
     * again after that long, resuming with since= the last id. A WebSocket never does this
     * by itself (EventSource does); an application must.
     */
    constructor({ topic, stats, hooks, reconnectMs }) {
      this.topic = topic;
      this.stats = stats;
      this.hooks = withHooks(hooks);
      this.ws = null;
      this.lastId = null;
      this.reconnectMs = reconnectMs || null;
      this.timer = null;
      this.closedByPage = false;
    }

    path(since) {
      return '/ws?topic=' + enc(this.topic) + (since == null ? '' : '&since=' + since);
    }

    get readyState() {
      return this.ws ? this.ws.readyState : 3;
    }

    open(since) {
      this.close(1000, 'reconnecting', true);
      this.closedByPage = false;
      if (since != null) this.lastId = since;
      const path = this.path(since);
      const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
      let ws;
      try {
        ws = new WebSocket(url);
      } catch (err) {
        this.hooks.onState('error', 'cannot open: ' + err.message);
        return;
      }
      ws.binaryType = 'arraybuffer';
      this.ws = ws;
      let opened = false;
      this.stats.requests += 1;
      this.hooks.onState('connecting', 'CONNECTING');
      this.hooks.onFrame({ dir: '↑', kind: 'GET', len: null, bytes: null,
        text: 'GET ' + path + ' HTTP/1.1 — Upgrade: websocket, Sec-WebSocket-Version: 13, …' });

      ws.onopen = () => {
        if (this.ws !== ws) return;
        opened = true;
        this.stats.bytes += PL.WS_HANDSHAKE_BYTES;
        this.hooks.onFrame({ dir: '↓', kind: '101', len: null, bytes: PL.WS_HANDSHAKE_BYTES,
          text: 'HTTP/1.1 101 Switching Protocols (size estimated: the page never sees it)' });
        this.hooks.onState('open', 'OPEN');
      };

      ws.onmessage = (ev) => {
        if (this.ws !== ws) return;
        if (typeof ev.data !== 'string') {
          const len = ev.data.byteLength;
          this.stats.bytes += PL.wsFrameBytes(len, false);
          this.hooks.onFrame({ dir: '↓', kind: 'binary', len, bytes: PL.wsFrameBytes(len, false), text: '' });
          this.hooks.onError('unexpected binary message of ' + len + ' bytes');
          return;
        }
        const len = PL.utf8Length(ev.data);
        const bytes = PL.wsFrameBytes(len, false);
        this.stats.bytes += bytes;
        this.hooks.onFrame({ dir: '↓', kind: 'text', len, bytes, text: ev.data });
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch (err) {
          this.hooks.onError('text frame is not message JSON: ' + err.message);
          return;
        }
        if (!msg || typeof msg.id !== 'number' || typeof msg.data !== 'string') {
          this.hooks.onError('text frame lacks {"id","data"}');
          return;
        }
        this.lastId = msg.id;
        this.stats.messages += 1;
        this.hooks.onMessage(msg);
      };

      ws.onerror = () => {
        if (this.ws !== ws) return;
        this.stats.count('errors');
      };

      ws.onclose = (ev) => {
        if (this.ws !== ws) return;
        this.ws = null;
        // RFC 6455 §7.4.1: 1005 = the close frame had no code, 1006 = there was no close
        // frame at all (the connection just ended); both are never on the wire.
        const onWire = ev.code !== 1005 && ev.code !== 1006;
        const len = onWire ? 2 + PL.utf8Length(ev.reason) : 0;
        if (onWire) this.stats.bytes += PL.wsFrameBytes(len, false);
        this.hooks.onFrame({ dir: '↓', kind: 'close', len: onWire ? len : null,
          bytes: onWire ? PL.wsFrameBytes(len, false) : null,
          text: 'code ' + ev.code + (ev.reason ? ' “' + ev.reason + '”' : '') + (ev.wasClean ? ', clean' : ', not clean') +
            (onWire ? '' : ' (no close frame: the code is the browser\'s own)') });
        const closed = 'CLOSED — code ' + ev.code + (ev.reason ? ' “' + ev.reason + '”' : '');
        const resume = 'since=' + (this.lastId == null ? '(none)' : this.lastId);
        if (this.reconnectMs && !this.closedByPage) {
          this.stats.count('reconnects');
          this.hooks.onState('connecting', closed + ' — reconnecting in ' + (this.reconnectMs / 1000) + ' s with ' + resume);
          this.timer = setTimeout(() => { this.timer = null; this.open(this.lastId); }, this.reconnectMs);
        } else {
          const state = ev.code === 1000 || ev.code === 1001 ? 'closed' : 'error';
          this.hooks.onState(state, closed + ' — press Reconnect to resume with ' + resume);
        }
        if (!opened) this._diagnose();
      };
    }

    /**
     * Drops the connection the way a broken network would, as far as a page can: it closes
     * the socket (code 4000, "cut by the page") without marking the close as asked for, so
     * with `reconnectMs` the client reconnects from its last id as after any other drop.
     * Returns false when there was no connection to cut.
     */
    cut() {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.close(4000, 'cut by the page');
      return true;
    }

    /** Sends one text message (published to the topic by the server). */
    send(text) {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) throw new Error('not connected — press Reconnect');
      ws.send(text);
      const len = PL.utf8Length(text);
      const bytes = PL.wsFrameBytes(len, true);
      this.stats.count('sent', 1);
      this.hooks.onFrame({ dir: '↑', kind: 'text', len, bytes, text });
      return len;
    }

    /**
     * Starts the closing handshake (RFC 6455 §7.1.2). `quiet`: no log line, no events
     * afterwards — the client is being replaced or put away.
     */
    close(code, reason, quiet) {
      clearTimeout(this.timer);
      this.timer = null;
      this.closedByPage = true;
      const ws = this.ws;
      if (!ws) return;
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
        if (!quiet) {
          const len = 2 + PL.utf8Length(reason || '');
          this.hooks.onFrame({ dir: '↑', kind: 'close', len, bytes: PL.wsFrameBytes(len, true),
            text: 'code ' + code + (reason ? ' “' + reason + '”' : '') });
        }
        ws.close(code, reason);
      }
      if (quiet) {
        ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
        this.ws = null;
      }
    }

    /** The handshake failed; a browser hides why. Ask /poll whether the server and topic are fine. */
    async _diagnose() {
      try {
        await PL.getJson('/poll?topic=' + enc(this.topic) + '&limit=1', {});
        this.hooks.onError('the WebSocket handshake was refused, yet the server is up and the topic valid: ' +
          'probably 403 for an Origin it does not allow (see --allow-origin). Browsers never show a ' +
          'refused handshake\'s status; RUST_LOG=trace on the server does.');
      } catch (err) {
        this.hooks.onError('WebSocket could not connect: ' + PL.describeError(err));
      }
    }
  }

  /**
   * The wire view of a poller: the last exchange in full in a <pre>, and one line per
   * exchange (newest first) in an <ol>. What a page can't see is said, not invented.
   */
  class PollWireView {
    constructor(pre, log, maxLines) {
      this.pre = pre;
      this.log = log;
      this.max = maxLines || 100;
    }

    clear() {
      this.pre.replaceChildren();
      this.log.replaceChildren();
    }

    _line(text, cls) {
      const span = document.createElement('span');
      if (cls) span.className = cls;
      span.textContent = text + '\n';
      this.pre.appendChild(span);
    }

    /** `kind` is the log line's class: useful, empty, timeout or failed. */
    show(ex, kind, count) {
      const path = ex.url;
      const r = ex.response;
      this.pre.replaceChildren();
      this._line('GET ' + path + ' HTTP/1.1', 'out');
      this._line('(+ the headers your browser adds: Host, User-Agent, Accept, … — a page cannot see them)', 'note');
      this._line('');
      this._line('HTTP/1.1 ' + r.status + ' ' + r.statusText, 'in');
      r.headers.forEach((value, name) => this._line(name + ': ' + value, 'head'));
      this._line('');
      this._line(ex.text.length > 4000 ? ex.text.slice(0, 4000) + ' …' : ex.text);
      this._line('');
      this._line('(' + ex.bytes + ' bytes received: head rebuilt from fetch\'s view of it, plus the body; header names shown lower-cased as fetch reports them)', 'note');

      const since = new URL(path, location.href).searchParams.get('since');
      const li = document.createElement('li');
      li.className = kind;
      li.textContent = PL.fmtClock(Date.now()) + '  since=' + since + ' → ' + r.status + ' · ' +
        (count == null ? '' : count + (count === 1 ? ' message · ' : ' messages · ')) +
        ex.bytes + ' B · ' + PL.fmtMs(ex.ms) + (kind === 'timeout' ? ' · held until the timeout' : '');
      this.log.prepend(li);
      while (this.log.childElementCount > this.max) this.log.lastElementChild.remove();
    }

    /** A request that got no HTTP reply at all. */
    failed(url, text) {
      const li = document.createElement('li');
      li.className = 'failed';
      li.textContent = PL.fmtClock(Date.now()) + '  GET ' + url + ' ✗ ' + text;
      this.log.prepend(li);
      while (this.log.childElementCount > this.max) this.log.lastElementChild.remove();
    }
  }

  /**
   * Hooks that show a client's state in a status pill and its troubles in #error and the
   * list. Clears #error when a client recovers.
   */
  function statusHooks(statusEl, list) {
    return {
      onState(state, text) {
        if (state === 'open' && statusEl.dataset.state === 'error') PL.showError('');
        PL.setStatus(statusEl, state, text);
      },
      onError(text) { PL.showError(text); },
      onNotice(text) { list.marker(text, 'restart'); },
    };
  }

  Object.assign(PL, {
    beginWhenReachable, startNote, showTimed, exchange, parseReply,
    ShortPoller, LongPoller, SseClient, WsClient, PollWireView, statusHooks, SSE_RETRY_MS,
  });
})(typeof window !== 'undefined' ? window.PL : globalThis.PL);
