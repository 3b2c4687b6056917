// Short polling page: GET /poll every interval (SPEC §4). Loaded after common.js and
// transports.js.
'use strict';

(function () {
  const stats = new PL.Stats();
  const view = new PL.StatsView(PL.$('#stats'), stats);
  const list = new PL.MessageList(PL.$('#messages'));
  const wire = new PL.PollWireView(PL.$('#wire'), PL.$('#log'));
  const status = PL.$('#status');
  const intervalInput = PL.$('#interval');
  const cursorEl = PL.$('#cursor');

  let poller = null;
  let ctrl = null;
  let topic = PL.DEFAULT_TOPIC;

  intervalInput.value = String(PL.intParam('interval', 1000) / 1000);

  /** The interval in ms, 0.1–60 s, from the input (1 s when it makes no sense). */
  function intervalMs() {
    const s = Number(intervalInput.value);
    if (!Number.isFinite(s) || s <= 0) return 1000;
    return Math.round(Math.min(Math.max(s, 0.1), 60) * 1000);
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
    poller = new PL.ShortPoller({
      topic: t,
      since: start.since,
      stats,
      interval: intervalMs,
      hooks: Object.assign(hooks, {
        onMessage: (m) => {
          PL.showTimed(list, stats, m, sessionStart);
          view.render();
        },
        onExchange: (ex, reply) => wire.show(ex,
          !reply ? 'failed' : reply.messages.length ? 'useful' : 'empty',
          reply ? reply.messages.length : null),
        onRequestFailed: (url, text) => wire.failed(url, text),
      }),
    });
    poller.start();
  }

  PL.page('short-poll', {
    onTopic: join,
    onSend: async (text) => {
      const r = await PL.publish(topic, text);
      return 'published as #' + r.id + ' — it shows up at the next poll';
    },
  });

  PL.$('#reset').addEventListener('click', () => stats.reset());

  setInterval(() => {
    view.render();
    cursorEl.textContent = poller ? String(poller.since) : '–';
  }, 250);
})();
