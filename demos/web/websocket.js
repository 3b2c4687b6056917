// WebSocket page: a chat over /ws (SPEC §7) with a log of every frame the page can observe.
// Loaded after common.js and transports.js.
'use strict';

(function () {
  const stats = new PL.Stats();
  const view = new PL.StatsView(PL.$('#stats'), stats);
  const list = new PL.MessageList(PL.$('#messages'));
  const status = PL.$('#status');
  const frames = PL.$('#frames');
  const readyEl = PL.$('#ready-state');
  const lastIdEl = PL.$('#last-id');
  const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];
  const MAX_ROWS = 300;

  let client = null;
  let ctrl = null;
  let topic = PL.DEFAULT_TOPIC;

  function cell(text, cls) {
    const td = document.createElement('td');
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }

  /** One row of the frame log: {dir, kind, len, bytes, text}. */
  function logFrame(f) {
    const tr = document.createElement('tr');
    tr.className = (f.dir === '↑' ? 'out' : 'in') + (f.kind === 'close' ? ' close' : '') +
      (f.kind === 'GET' || f.kind === '101' ? ' http' : '');
    const content = f.text.length > 300 ? f.text.slice(0, 300) + ' …' : f.text;
    tr.append(
      cell(PL.fmtClock(Date.now())),
      cell(f.dir, 'dir'),
      cell(f.kind === 'GET' || f.kind === '101' ? 'HTTP' : f.kind),
      cell(f.len == null ? '' : f.len + ' B', 'num'),
      cell(f.bytes == null ? '' : f.bytes + ' B', 'num'),
      cell(content, 'content'));
    const box = frames.closest('.table-wrap');
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    frames.appendChild(tr);
    while (frames.childElementCount > MAX_ROWS) frames.firstElementChild.remove();
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  async function join(t) {
    topic = t;
    if (client) client.close(1000, 'changing topic', true);
    client = null;
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    stats.reset();
    list.clear(null);
    frames.replaceChildren();
    const sessionStart = Date.now();
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
    list.clear(start.since);
    list.marker(PL.startNote(t, start), 'note');

    const hooks = PL.statusHooks(status, list);
    client = new PL.WsClient({
      topic: t,
      stats,
      hooks: Object.assign(hooks, {
        onMessage: (m) => {
          PL.showTimed(list, stats, m, sessionStart);
          view.render();
        },
        onFrame: logFrame,
      }),
    });
    client.open(start.since);
  }

  PL.$('#close').addEventListener('click', () => {
    if (client) client.close(1000, 'bye from the page');
  });
  PL.$('#reconnect').addEventListener('click', () => {
    if (client) client.open(client.lastId);
    else join(topic); // never got going (say, the server was down): start over
  });
  PL.$('#reset').addEventListener('click', () => stats.reset());

  PL.page('websocket', {
    onTopic: join,
    onSend: async (text) => {
      if (!client) throw new Error('not connected yet');
      const len = client.send(text);
      return 'sent as one text frame: ' + len + ' bytes of payload, ' + PL.wsFrameBytes(len, true) +
        ' on the wire with its header and mask';
    },
  });

  setInterval(() => {
    view.render();
    const rs = client ? client.readyState : 3;
    readyEl.textContent = rs + ' (' + STATE_NAMES[rs] + ')';
    lastIdEl.textContent = client && client.lastId !== null ? String(client.lastId) : '–';
  }, 250);
})();
