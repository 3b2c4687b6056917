// benches/peers/bun-server.js — SPEC's routes on Bun (uWebSockets underneath), written the
// way Bun's docs write a server, as the peer for benches/compare.sh:
//
//   bun benches/peers/bun-server.js PORT
//
// One `Bun.serve` on 127.0.0.1:PORT, one process, one thread (Bun's HTTP and WebSocket
// server run on its main event loop):
//
//   POST /publish?topic=T   the body is the message: {"id":N,"topic":"T"}; ids 1, 2, 3, … per
//                           topic; the last 1024 kept for replay (pushlab's --replay default)
//   GET  /poll?topic=T[&since=N][&limit=L]       SPEC §4: {"topic","messages":[…],"next"}
//   GET  /long-poll?topic=T[&since=N][&timeout=S][&limit=L]   SPEC §5: held until news
//   GET  /sse?topic=T[&since=N]   SPEC §6: retry: 3000, replay, then live events, heartbeats
//   GET  /ws?topic=T[&since=N]    SPEC §7: replay, then every message as a text frame through
//                                 uWebSockets' own pub/sub (`ws.subscribe`, `server.publish`);
//                                 a text message from the client is published
//   GET  /echo                    every text or binary message back
//
// What it leaves out of SPEC: Origin checks and CORS, the 400s of malformed input beyond a
// bad topic, `--max-message`, Last-Event-ID beyond the header's value, HEAD on the streams.
// None of them is on the paths the load tool measures.
const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
const REPLAY = 1024;
const HEARTBEAT_MS = 15_000;
const LONG_POLL_TIMEOUT_S = 25;
const TOPIC = /^[A-Za-z0-9._-]{1,64}$/;
const encoder = new TextEncoder();

/** topic name → { last, ring: [message], sse: Set<controller>, waiters: Set<waiter> } */
const topics = new Map();

function topicOf(name) {
  let t = topics.get(name);
  if (!t) {
    t = { last: 0, ring: [], sse: new Set(), waiters: new Set() };
    topics.set(name, t);
  }
  return t;
}

function cursor(t, since) {
  if (since === null) return t.last; // absent: from now
  const n = Number(since);
  return Math.min(n, t.last);
}

function after(t, since, limit) {
  return t.ring.filter((m) => m.id > since).slice(0, limit);
}

function pollReply(name, messages, since) {
  const next = messages.length ? messages[messages.length - 1].id : since;
  return Response.json({ topic: name, messages, next }, { headers: { "Cache-Control": "no-store" } });
}

function sseEvent(m) {
  const data = m.data.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join("");
  return encoder.encode(`id: ${m.id}\n${data}\n`);
}

function publish(server, name, data) {
  const t = topicOf(name);
  const m = { id: ++t.last, topic: name, data, time: Date.now() };
  t.ring.push(m);
  if (t.ring.length > REPLAY) t.ring.shift();
  const json = JSON.stringify(m);
  server.publish(name, json);
  if (t.sse.size) {
    const event = sseEvent(m);
    for (const c of t.sse) c.enqueue(event);
  }
  for (const w of t.waiters) w(m);
  t.waiters.clear();
  return m;
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  // Streams and held polls are idle by design; SSE and WebSocket send their own heartbeats.
  idleTimeout: 0,
  async fetch(req, server) {
    const url = new URL(req.url);
    if (url.pathname === "/echo") {
      return server.upgrade(req, { data: { echo: true } }) ? undefined : new Response("upgrade required", { status: 400 });
    }
    if (!["/publish", "/poll", "/long-poll", "/sse", "/ws"].includes(url.pathname)) {
      return new Response("not found", { status: 404 });
    }
    const name = url.searchParams.get("topic");
    const since = url.searchParams.get("since");
    const limit = Math.min(Math.max(Number(url.searchParams.get("limit") ?? 100), 1), 1000);
    if (name === null || !TOPIC.test(name) || (since !== null && !/^\d+$/.test(since))) {
      return new Response("bad topic or cursor", { status: 400 });
    }
    const t = topicOf(name);
    switch (url.pathname) {
      case "/publish": {
        if (req.method !== "POST") return new Response(null, { status: 405, headers: { Allow: "POST" } });
        const data = await req.text();
        if (!data.length) return new Response("empty message", { status: 400 });
        const m = publish(server, name, data);
        return Response.json({ id: m.id, topic: name });
      }
      case "/poll": {
        const from = cursor(t, since);
        return pollReply(name, since === null ? [] : after(t, from, limit), from);
      }
      case "/long-poll": {
        const from = cursor(t, since);
        const ready = after(t, from, limit);
        if (ready.length) return pollReply(name, ready, from);
        const timeout = Math.min(Math.max(Number(url.searchParams.get("timeout") ?? LONG_POLL_TIMEOUT_S), 1), 120);
        return new Promise((resolve) => {
          const waiter = () => {
            clearTimeout(timer);
            resolve(pollReply(name, after(t, from, limit), from));
          };
          const timer = setTimeout(() => {
            t.waiters.delete(waiter);
            resolve(pollReply(name, [], from));
          }, timeout * 1000);
          t.waiters.add(waiter);
          req.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            t.waiters.delete(waiter);
          });
        });
      }
      case "/sse": {
        const header = req.headers.get("last-event-id");
        const from = cursor(t, header !== null && /^\d+$/.test(header) ? header : since);
        let me;
        const stream = new ReadableStream({
          type: "direct",
          pull(controller) {
            me = { enqueue: (bytes) => { controller.write(bytes); controller.flush(); } };
            controller.write("retry: 3000\n\n");
            for (const m of after(t, from, Infinity)) controller.write(sseEvent(m));
            controller.flush();
            t.sse.add(me);
            const beat = setInterval(() => me.enqueue(": keep-alive\n\n"), HEARTBEAT_MS);
            return new Promise((done) =>
              req.signal.addEventListener("abort", () => {
                clearInterval(beat);
                t.sse.delete(me);
                done();
              }),
            );
          },
        });
        return new Response(stream, {
          headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no" },
        });
      }
      case "/ws": {
        const from = cursor(t, since);
        return server.upgrade(req, { data: { topic: name, from } }) ? undefined : new Response("upgrade required", { status: 400 });
      }
    }
  },
  websocket: {
    // SPEC §7: /ws and /echo speak no extension; pings every --heartbeat.
    perMessageDeflate: false,
    sendPings: true,
    idleTimeout: 30,
    maxPayloadLength: 16 * 1024 * 1024,
    open(ws) {
      if (ws.data.echo) return;
      const t = topicOf(ws.data.topic);
      for (const m of after(t, ws.data.from, Infinity)) ws.send(JSON.stringify(m));
      ws.subscribe(ws.data.topic);
    },
    message(ws, message) {
      if (ws.data.echo) {
        ws.send(message);
      } else if (typeof message === "string") {
        publish(server, ws.data.topic, message);
      } else {
        ws.close(1003, "text only");
      }
    },
  },
});

console.log(`bun-server listening on http://${server.hostname}:${server.port}`);
