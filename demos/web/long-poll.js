// Long polling page: GET /long-poll, re-issued after every reply (SPEC §5). Loaded after
// common.js and transports.js.
'use strict';

(function () {
  const stats = new PL.Stats();
  const view = new PL.StatsView(PL.$('#stats'), stats);
  const list = new PL.MessageList(PL.$('#messages'));
  const wire = new PL.PollWireView(PL.$('#wire'), PL.$('#log'));
  const status = PL.$('#status');
  const timeoutInput = PL.$('#timeout');
  const cursorEl = PL.$('#cursor');
  const heldEl = PL.$('#held');

  let poller = null;
  let ctrl = null;
  let topic = PL.DEFAULT_TOPIC;

  timeoutInput.value = String(PL.intParam('timeout', 25));

  /** The timeout in whole seconds, clamped as the server clamps it (SPEC §5: 1..=120). */
  function timeoutSecs() {
    const s = Math.round(Number(timeoutInput.value));
    if (!Number.isFinite(s)) return 25;
    return Math.min(Math.max(s, 1), 120);
  }

  async function join(t) {
    topic = t;
    if (poller) poller.stop();
    if (ctrl) ctrl.abort();
    poller = null;
    ctrl = new AbortController();
    const signal = ctrl.signal;
    stats.reset();
    list.clear(null);
    wire.clear();
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
    poller = new PL.LongPoller({
      topic: t,
      since: start.since,
      stats,
      timeout: timeoutSecs,
      hooks: Object.assign(hooks, {
        onMessage: (m) => {
          PL.showTimed(list, stats, m, sessionStart);
          view.render();
        },
        onExchange: (ex, reply) => wire.show(ex,
          !reply ? 'failed' : reply.messages.length ? 'useful' : 'timeout',
          reply ? reply.messages.length : null),
        onRequestFailed: (url, text) => wire.failed(url, text),
      }),
    });
    poller.start();
  }

  PL.page('long-poll', {
    onTopic: join,
    onSend: async (text) => {
      const r = await PL.publish(topic, text);
      return 'published as #' + r.id + ' — the held request answers at once';
    },
  });

  PL.$('#reset').addEventListener('click', () => stats.reset());

  setInterval(() => {
    view.render();
    cursorEl.textContent = poller ? String(poller.since) : '–';
    heldEl.textContent = poller && poller.heldSince !== null
      ? 'held by the server for ' + ((Date.now() - poller.heldSince) / 1000).toFixed(1) + ' s of ' + timeoutSecs() + ' s'
      : '–';
  }, 250);
})();
