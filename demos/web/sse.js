// Server-Sent Events page: one EventSource (SPEC §6), a "drop connection" button that
// resumes with since=, and a raw view of the stream through a second, fetch-based connection.
// Loaded after common.js and transports.js.
'use strict';

(function () {
  const stats = new PL.Stats();
  const view = new PL.StatsView(PL.$('#stats'), stats);
  const list = new PL.MessageList(PL.$('#messages'));
  const status = PL.$('#status');
  const clock = new PL.SendClock();
  const readyEl = PL.$('#ready-state');
  const lastIdEl = PL.$('#last-event-id');
  const rawToggle = PL.$('#raw-toggle');
  const rawOut = PL.$('#raw');
  const rawBytesEl = PL.$('#raw-bytes');
  const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSED'];

  let client = null;
  let ctrl = null;
  let topic = PL.DEFAULT_TOPIC;
  let historyUpTo = 0;
  let lastEventId = null;

  async function join(t) {
    topic = t;
    if (client) client.close();
    client = null;
    if (ctrl) ctrl.abort();
    rawStop();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    stats.reset();
    list.clear(null);
    lastEventId = null;
    PL.setStatus(status, 'connecting', 'asking for the topic\'s latest id…');

    let start;
    try {
      start = await PL.beginWhenReachable(t, signal, (why) => PL.setStatus(status, 'error', why));
    } catch (err) {
      if (PL.isAbort(err) || signal.aborted) return;
      PL.setStatus(status, 'error', 'stopped: ' + PL.describeError(err));
      PL.showError(PL.describeError(err));
      return;
    }
    if (signal.aborted) return;
    historyUpTo = start.latest === null ? start.since : start.latest;
    list.clear(start.since);
    list.marker(PL.startNote(t, start), 'note');

    const hooks = PL.statusHooks(status, list);
    client = new PL.SseClient({ topic: t, stats, hooks: Object.assign(hooks, { onMessage: deliver }) });
    client.open(start.since);
    if (rawToggle.checked) rawStart();
  }

  /** Shows an event; times it only if this page sent it (the event carries no time). */
  function deliver(m) {
    lastEventId = m.id;
    const li = list.add(m, '');
    const sent = clock.take(m.id, m.data);
    const now = Date.now();
    if (sent !== null) {
      const d = now - sent;
      stats.addDelay(d);
      PL.setMeta(li, 'own · ' + PL.fmtMs(d));
    } else if (m.id <= historyUpTo) {
      li.classList.add('history');
      PL.setMeta(li, 'history');
    } else {
      PL.setMeta(li, 'delay n/a');
    }
    view.render();
  }

  // ---- the raw view: a second connection through fetch, printed as it streams

  let raw = null;
  let rawBytes = 0;

  function rawAppend(c, nodes) {
    if (raw !== c) return;
    const atBottom = rawOut.scrollHeight - rawOut.scrollTop - rawOut.clientHeight < 40;
    rawOut.append(...nodes);
    while (rawOut.childNodes.length > 8000) rawOut.firstChild.remove();
    if (atBottom) rawOut.scrollTop = rawOut.scrollHeight;
  }

  function span(text, cls) {
    const s = document.createElement('span');
    if (cls) s.className = cls;
    s.textContent = text;
    return s;
  }

  function rawLine(c, text, cls) {
    rawAppend(c, [span(text + '\n', cls)]);
  }

  /** Appends stream text with every line end drawn: ↵ for LF, ␍ for CR. */
  function rawText(c, text) {
    const nodes = [];
    for (const part of text.split(/(\r\n|\r|\n)/)) {
      if (part === '') continue;
      if (part === '\n' || part === '\r' || part === '\r\n') {
        nodes.push(span(part === '\n' ? '↵' : part === '\r' ? '␍' : '␍↵', 'eol'), document.createTextNode('\n'));
      } else {
        nodes.push(document.createTextNode(part));
      }
    }
    rawAppend(c, nodes);
  }

  async function rawStart() {
    rawStop();
    const c = new AbortController();
    raw = c;
    rawOut.replaceChildren();
    rawBytes = 0;
    const since = client ? client.lastId : null;
    const url = '/sse?topic=' + encodeURIComponent(topic) + (since == null ? '' : '&since=' + since);
    rawLine(c, 'GET ' + url + ' HTTP/1.1', 'out');
    rawLine(c, '(a second connection, beside the EventSource; the headers your browser adds are not visible)', 'note');
    rawLine(c, '');
    try {
      const r = await fetch(url, { signal: c.signal, cache: 'no-store' });
      rawLine(c, 'HTTP/1.1 ' + r.status + ' ' + r.statusText, 'in');
      r.headers.forEach((value, name) => rawLine(c, name + ': ' + value, 'head'));
      rawLine(c, '');
      if (!r.ok) {
        rawText(c, await r.text());
        rawLine(c, '\n[refused: the body above is the server\'s reason]', 'note');
        return;
      }
      const reader = r.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rawBytes += value.length;
        rawText(c, decoder.decode(value, { stream: true }));
      }
      rawText(c, decoder.decode());
      rawLine(c, '[the server ended the stream]', 'note');
    } catch (err) {
      if (PL.isAbort(err)) return;
      rawLine(c, '\n[' + PL.describeError(err) + ']', 'note');
    }
  }

  function rawStop() {
    if (!raw) return;
    const c = raw;
    rawLine(c, '\n[raw view off: the page closed this connection]', 'note');
    raw = null;
    c.abort();
  }

  rawToggle.checked = PL.intParam('raw', 0) === 1;
  rawToggle.addEventListener('change', () => {
    if (rawToggle.checked) rawStart();
    else rawStop();
  });

  // ---- buttons, sending, the live panel

  PL.$('#drop').addEventListener('click', () => {
    if (client) client.drop(1000);
  });
  PL.$('#reconnect').addEventListener('click', () => {
    if (client) client.open(client.lastId);
    else join(topic); // never got going (say, the server was down): start over
  });
  PL.$('#reset').addEventListener('click', () => stats.reset());

  PL.page('sse', {
    onTopic: join,
    onSend: async (text) => {
      const entry = clock.mark(text);
      try {
        const r = await PL.publish(topic, text);
        clock.confirm(entry, r.id);
        return 'published as #' + r.id;
      } catch (err) {
        clock.forget(entry);
        throw err;
      }
    },
  });

  setInterval(() => {
    view.render();
    const rs = client ? client.readyState : 2;
    readyEl.textContent = rs + ' (' + STATE_NAMES[rs] + ')';
    lastIdEl.textContent = lastEventId === null ? '– (no event yet)' : '"' + lastEventId + '"';
    rawBytesEl.textContent = PL.fmtBytes(rawBytes);
  }, 250);
})();
