// The scripted world of the trace-equality tests (crates/consult-core/tests/data/traces.json):
// one driver executor at a time runs in it, in Chromium, with every I/O it does replaced at the
// page's edge — `fetch`, the storage adapter, `setTimeout`/`clearTimeout`, the wall clock (the
// client's `now` option) and the monotonic one (`performance.now`), `Math.random` (the machine's
// seed), `WebSocket`, and for the cross-tab scenarios `localStorage` (IndexedDB hidden),
// `BroadcastChannel` and `navigator.locks` — recorded as it happens, and completed only when the script says. The trace is what
// the executor did, step by step; core records the same on the host (consult-core's
// tests/trace_equality.rs) and both drivers must match it.
//
// A classic script (no import/export): the npm package's test inlines it in its page, the Rust
// driver's wasm-bindgen test evaluates it. It defines `globalThis.ConsultTraceWorld.run`.

(() => {
  const WALL0 = 1750000000000;
  const MONO0 = 1000;
  const SET_TIMEOUT_MAX = 2147483647;
  const TOKEN_KEY = "authToken";
  const BASE_URL = "http://127.0.0.1:9";

  const base64url = (text) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  /** The tokens of the file, as core's host runner writes them. */
  function tokenTexts(specs) {
    const names = new Map();
    for (const [name, spec] of Object.entries(specs)) {
      const iat = WALL0 / 1000 + (spec.iat_s ?? 0);
      const exp = iat + (spec.ttl_s ?? 0);
      names.set(name, "e30." + base64url(`{"exp":${exp},"iat":${iat},"jti":"${name}"}`) + ".s");
    }
    return names;
  }

  /**
   * Runs one scenario with the executor `makeApp({ baseUrl, now, storage })` builds; resolves to
   * its trace (per step, the sorted list of what the executor did).
   */
  async function run(file, scenario, makeApp) {
    const names = tokenTexts(file.tokens);
    const nameOf = (token) => [...names].find(([, text]) => text === token)?.[0] ?? "?";
    /** A text with every token replaced by its name. */
    const named = (text) => [...names].reduce((t, [name, token]) => t.split(token).join(name), String(text));
    const real = {
      fetch: globalThis.fetch,
      setTimeout: globalThis.setTimeout,
      clearTimeout: globalThis.clearTimeout,
      now: performance.now,
      random: Math.random,
      WebSocket: globalThis.WebSocket,
      BroadcastChannel: globalThis.BroadcastChannel,
    };
    const settle = () => new Promise((resolve) => real.setTimeout.call(globalThis, resolve, 5));
    let wall = WALL0;
    let mono = MONO0;
    let step = [];
    const record = (entry) => step.push(entry);
    const fetches = [];
    const timers = new Map();
    let nextTimer = 1;
    const stored = new Map();
    const fails = scenario.storage_fails === true;

    globalThis.fetch = (input, init) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const auth = request.headers.get("Authorization") ?? "";
      const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
      const tag = request.headers.get("If-None-Match");
      record(`fetch ${request.method} ${new URL(request.url).pathname} ${nameOf(token)}${tag ? ` inm ${tag}` : ""}`);
      return new Promise((resolve, reject) => fetches.push({ resolve, reject }));
    };
    globalThis.setTimeout = (callback, delay) => {
      const id = nextTimer++;
      timers.set(id, { at: mono + Math.min(Math.max(Number(delay) || 0, 0), SET_TIMEOUT_MAX), callback });
      return id;
    };
    globalThis.clearTimeout = (id) => void timers.delete(id);
    performance.now = () => mono;
    Math.random = () => 0.5;
    let socket = null;
    /** The video session's WebSocket: opened, sent to and closed by the executor; the script
     * plays the server (`ws` steps). close() on a socket already closed does nothing. */
    globalThis.WebSocket = class {
      constructor(url) {
        record(`ws open ${url}`);
        this.closed = false;
        this.onopen = this.onmessage = this.onclose = this.onerror = null;
        socket = this;
      }
      send(frame) {
        record(`ws send ${named(frame)}`);
      }
      close() {
        if (this.closed) return;
        this.closed = true;
        record("ws close");
      }
    };

    const failure = () => Promise.reject(new Error("the storage failed (scripted)"));
    const storage = {
      getItem(key) {
        if (key === TOKEN_KEY) record("storage read");
        return fails ? failure() : Promise.resolve(stored.get(key) ?? null);
      },
      setItem(key, value) {
        if (key === TOKEN_KEY) record(`storage write ${nameOf(value)}`);
        if (fails) return failure();
        stored.set(key, String(value));
        return Promise.resolve();
      },
      removeItem(key) {
        if (key === TOKEN_KEY) record("storage clear");
        if (fails) return failure();
        stored.delete(key);
        return Promise.resolve();
      },
    };

    // Cross-tab: the store is "local" storage (this recording one; no IndexedDB, so both
    // drivers keep the token there), the tabs' channel and the Web Lock are scripted too.
    const crossTab = scenario.cross_tab === true;
    const channels = [];
    const locks = [];
    const define = (target, key, value) => Object.defineProperty(target, key, { value, configurable: true, writable: true });
    /** A message as recorded: fields present, sorted, tokens by name. */
    const message = (data) => {
      const fields = Object.entries(data ?? {})
        .filter(([, v]) => v !== undefined && v !== null)
        .map(([k, v]) => [k, named(v)])
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return JSON.stringify(Object.fromEntries(fields));
    };
    if (crossTab) {
      define(globalThis, "indexedDB", undefined);
      define(globalThis, "localStorage", storage);
      globalThis.BroadcastChannel = class {
        constructor(name) {
          this.name = name;
          this.onmessage = null;
          this.listeners = [];
          this.closed = false;
          channels.push(this);
        }
        postMessage(data) {
          record(`tab post ${message(data)}`);
        }
        addEventListener(type, listener) {
          if (type === "message") this.listeners.push(listener);
        }
        removeEventListener(type, listener) {
          this.listeners = this.listeners.filter((l) => l !== listener);
        }
        close() {
          this.closed = true;
        }
      };
      define(navigator, "locks", {
        request(name, options, callback) {
          record(`lock request ${name}`);
          return new Promise((resolve, reject) => {
            const entry = { callback, resolve, granted: false, withdrawn: false };
            locks.push(entry);
            options?.signal?.addEventListener("abort", () => {
              if (entry.granted) return;
              entry.withdrawn = true;
              reject(new DOMException("withdrawn", "AbortError"));
            });
          });
        },
      });
    }

    const trace = [];
    let armed = null;
    let calls = 0;
    let app;
    try {
      app = makeApp({ baseUrl: BASE_URL, now: () => wall, storage: crossTab ? "local" : storage });
      app.onEvent((kind, code) => record(code ? `event ${kind} ${code}` : `event ${kind}`));
      for (const s of scenario.steps) {
        const advance = s.advance_ms ?? 0;
        wall += advance;
        mono += advance;
        if (s.call === "connect") {
          // Not a call: the video session reports through its listeners.
          app.connect((kind, detail) => record(detail ? `room ${kind} ${detail}` : `room ${kind}`));
        } else if (s.ws !== undefined) {
          if (!socket) record("! no WebSocket");
          else if (s.ws === "open") socket.onopen?.({});
          else if (s.ws === "close") {
            socket.closed = true;
            socket.onclose?.({ code: 1006 });
          } else socket.onmessage?.({ data: s.ws.frame });
        } else if (s.tab !== undefined) {
          const data = Object.fromEntries(Object.entries(s.tab).map(([k, v]) => [k, names.get(v) ?? v]));
          for (const channel of channels.filter((c) => !c.closed)) {
            channel.onmessage?.({ data });
            for (const listener of channel.listeners) listener({ data });
          }
        } else if (s.lock !== undefined) {
          const entry = locks.find((l) => !l.granted && !l.withdrawn);
          if (!entry) record("! no lock request");
          else {
            entry.granted = true;
            Promise.resolve(entry.callback({ name: "lock" })).then(() => {
              record("lock release");
              entry.resolve();
            });
          }
        } else if (s.call === "poll") {
          // Not a call: the poller reports through its callbacks.
          app.poll(s.interval_ms, (kind, detail) => record(`poll ${kind} ${detail}`));
        } else if (s.call !== undefined) {
          const n = ++calls;
          const answered = (value) =>
            record(
              value === undefined || value === null
                ? `call ${n} ok`
                : typeof value === "number"
                  ? `call ${n} status ${value}`
                  : `call ${n} ${nameOf(value)}`,
            );
          const failed = (error) => record(`call ${n} !${error?.code ?? error}`);
          const calling = {
            setSession: () => app.setSession(names.get(s.token), s.expires_in),
            getValidToken: () => app.getValidToken(),
            refresh: () => app.refresh(),
            signOut: () => app.signOut(),
            fetch: () => app.fetch(s.path),
          }[s.call];
          Promise.resolve()
            .then(calling)
            .then(answered, failed);
        } else if (s.answer !== undefined) {
          const pending = fetches.shift();
          if (!pending) record("! an answer with no fetch pending");
          else if (s.answer === "network") pending.reject(new TypeError("Failed to fetch (scripted)"));
          else {
            const a = s.answer;
            const body =
              a.grant !== undefined ? `{"access_token":"${names.get(a.grant)}","expires_in":${a.expires_in}}` : (a.body ?? "");
            const headers = {};
            if (a.retry_after !== undefined) headers["Retry-After"] = a.retry_after;
            if (a.etag !== undefined) headers.ETag = a.etag;
            const empty = [204, 205, 304].includes(a.status);
            pending.resolve(new Response(empty ? null : body, { status: a.status, headers }));
          }
        } else if (s.fire !== undefined) {
          const earliest = [...timers].sort(([, x], [, y]) => x.at - y.at)[0];
          if (!earliest) {
            trace.push(["! no timer to fire"]);
            continue;
          }
          const [id, timer] = earliest;
          timers.delete(id);
          wall += timer.at - mono;
          mono = timer.at;
          armed = null;
          timer.callback();
        }
        // Until nothing more happens for three rounds (promise chains, a body read by the
        // browser in a task of its own): what one step causes belongs to that step.
        for (let i = 0, quiet = 0, seen = ""; i < 200 && quiet < 3; i++) {
          await settle();
          const now = `${step.length} ${timers.size} ${fetches.length}`;
          quiet = now === seen ? quiet + 1 : 0;
          seen = now;
        }
        const next = [...timers.values()].reduce((at, t) => (at === null || t.at < at ? t.at : at), null);
        if (next !== armed) {
          armed = next;
          record(next === null ? "timer none" : `timer +${next - MONO0}`);
        }
        trace.push(step.sort());
        step = [];
      }
    } finally {
      try {
        app?.dispose();
      } catch {
        // the trace is what matters
      }
      globalThis.fetch = real.fetch;
      globalThis.setTimeout = real.setTimeout;
      globalThis.clearTimeout = real.clearTimeout;
      performance.now = real.now;
      Math.random = real.random;
      globalThis.WebSocket = real.WebSocket;
      if (crossTab) {
        delete globalThis.indexedDB;
        delete globalThis.localStorage;
        delete navigator.locks;
        globalThis.BroadcastChannel = real.BroadcastChannel;
      }
    }
    return trace;
  }

  /** Compares a trace with the file's; one line per differing step (empty: equal). */
  function differences(scenario, trace) {
    const lines = [];
    const expected = scenario.trace ?? [];
    const steps = Math.max(expected.length, trace.length);
    for (let i = 0; i < steps; i++) {
      const want = JSON.stringify(expected[i] ?? null);
      const got = JSON.stringify(trace[i] ?? null);
      if (want !== got) lines.push(`${scenario.scenario}, step ${i + 1}: core did ${want}, the driver did ${got}`);
    }
    return lines;
  }

  globalThis.ConsultTraceWorld = { run, differences };
})();
