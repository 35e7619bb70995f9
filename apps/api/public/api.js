// Talks to the fleet API. The API key (when the server has one) is kept in localStorage and sent as
// x-api-key; a ?key= in the address is taken once and removed from it. Event streams are read with
// fetch rather than EventSource because EventSource cannot send headers; reconnection resumes from
// the last event id (Last-Event-ID), so a dropped connection loses nothing.
const KEY_STORE = 'fleet.apiKey';

export class ApiError extends Error {
  constructor(status, body) {
    super(typeof body?.message === 'string' ? body.message : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function apiKey() {
  return localStorage.getItem(KEY_STORE) ?? '';
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_STORE, key);
  else localStorage.removeItem(KEY_STORE);
}

export function takeKeyFromUrl() {
  const url = new URL(location.href);
  const key = url.searchParams.get('key');
  if (key === null) return;
  setApiKey(key);
  url.searchParams.delete('key');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

function headers(extra = {}) {
  const key = apiKey();
  return { accept: 'application/json', ...(key ? { 'x-api-key': key } : {}), ...extra };
}

const listeners = new Set();
/** Called with true/false whenever a request reaches or fails to reach the API. */
export function onConnectivity(fn) {
  listeners.add(fn);
}
function connectivity(up) {
  for (const fn of listeners) fn(up);
}

export async function api(path, { method = 'GET', body, signal } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method,
      signal,
      headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err.name !== 'AbortError') connectivity(false);
    throw err;
  }
  connectivity(true);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

async function* readSse(body, signal) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const abort = () => reader.cancel().catch(() => {});
  signal?.addEventListener('abort', abort, { once: true });
  let buffer = '';
  let id;
  let event = '';
  let data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(buffer[nl] === '\r' && buffer[nl + 1] === '\n' ? nl + 2 : nl + 1);
        if (line === '') {
          if (data.length) yield { id, event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
        } else if (!line.startsWith(':')) {
          const c = line.indexOf(':');
          const field = c < 0 ? line : line.slice(0, c);
          let v = c < 0 ? '' : line.slice(c + 1);
          if (v.startsWith(' ')) v = v.slice(1);
          if (field === 'data') data.push(v);
          else if (field === 'event') event = v;
          else if (field === 'id') id = v;
        }
      }
    }
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}

/**
 * Follows /api/experiments/:id/events until the signal aborts, calling onEvent(type, payload) for
 * each event. Reconnects with backoff and Last-Event-ID. Stops for good on 4xx answers.
 */
export async function followEvents(experimentId, onEvent, signal) {
  let lastId;
  let attempt = 0;
  while (!signal.aborted) {
    try {
      const res = await fetch(`/api/experiments/${encodeURIComponent(experimentId)}/events`, {
        signal,
        headers: headers({ accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) }),
      });
      if (res.status >= 400 && res.status < 500) return;
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      for await (const msg of readSse(res.body, signal)) {
        attempt = 0;
        if (msg.id) lastId = msg.id;
        let payload;
        try {
          payload = JSON.parse(msg.data);
        } catch {
          continue;
        }
        if (onEvent(msg.event, payload) === false) return;
      }
    } catch (err) {
      if (signal.aborted) return;
      void err;
    }
    attempt += 1;
    await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(attempt, 5))));
  }
}

/** An object URL for a binary resource of the API (images): fetched with the key, unlike an <img src>. */
export async function apiBlobUrl(path, { signal } = {}) {
  const key = apiKey();
  const res = await fetch(path, { headers: key ? { 'x-api-key': key } : {}, signal });
  if (!res.ok) throw new ApiError(res.status, { message: `${path}: HTTP ${res.status}` });
  return URL.createObjectURL(await res.blob());
}
