// The CLI's HTTP client for the fleet API: JSON requests, HTTP errors mapped to the CLI's exit codes,
// and the Server-Sent Events stream of one experiment with Last-Event-ID resumption. Uses Node's
// global fetch only, so the CLI needs no HTTP dependency; must never exit the process itself.
import type { Command } from 'commander';
import type { EpochMetrics } from '@fleet/training/contracts.js';
import type { SweepSearchView } from '@fleet/contracts';
import type { ExperimentEvent, ExperimentStatusName } from '@fleet/queue';
import { CliError, ExitCode } from './cli-error.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';

/** An experiment's complete configuration (defaults applied), as the API returns it. */
export interface ExperimentConfigView {
  dataset: string;
  weights?: string;
  strategy: string;
  epochs: number;
  batchSize: number;
  lr: number;
  lrFactor: number;
  momentum: number;
  weightDecay: number;
  stepSize: number;
  gamma: number;
  imageSize: number;
  seed: number;
}

/** An experiment as the API returns it (apps/api ExperimentDto). */
export interface ExperimentView {
  id: string;
  name: string | null;
  sweepId: string | null;
  gridValues: Record<string, unknown> | null;
  config: ExperimentConfigView;
  strategy: string;
  dataset: string;
  priority: number;
  status: ExperimentStatusName;
  attempts: number;
  workerId: string | null;
  backend: string | null;
  backendInfo: string | null;
  error: string | null;
  epochsDone: number;
  bestValAcc: number | null;
  bestEpoch: number | null;
  finalValAcc: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
}

/** GET /api/experiments/:id: the experiment and its recorded epochs, ascending. */
export interface ExperimentDetail extends ExperimentView {
  epochs: EpochMetrics[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type StatusCounts = Record<ExperimentStatusName, number>;

export interface SweepSummary {
  id: string;
  name: string | null;
  base: Record<string, unknown>;
  grid: Record<string, unknown[]>;
  createdAt: string;
  total: number;
  counts: StatusCounts;
}

export interface SweepRun {
  id: string;
  strategy: string;
  gridValues: Record<string, unknown>;
  status: ExperimentStatusName;
  epochsDone: number;
  bestValAcc: number | null;
  bestEpoch: number | null;
  finalValAcc: number | null;
  seconds: number | null;
  error: string | null;
}

export interface SweepDetail extends SweepSummary {
  runs: SweepRun[];
  /** Searched sweeps: trials, rungs, best-so-far (the wire contract of @fleet/contracts); null for a grid sweep. */
  search: SweepSearchView | null;
}

export interface CompareRun {
  id: string;
  seed: number;
  status: ExperimentStatusName;
  gridValues: Record<string, unknown>;
  bestValAcc: number | null;
  bestEpoch: number | null;
  meanEpochSeconds: number | null;
}

export interface CompareGroup {
  rank: number;
  value: string | number | null;
  n: number;
  meanBestValAcc: number | null;
  stdBestValAcc: number | null;
  bestRun: CompareRun | null;
  meanEpochSeconds: number | null;
  pValue: number | null;
  runs: CompareRun[];
}

export interface CompareResult {
  sweepId: string;
  groupBy: string;
  groups: CompareGroup[];
  note: string | null;
}

export interface CreatedSweep {
  id: string;
  count: number;
  experimentIds: string[];
}

export interface WorkerView {
  id: string;
  host: string;
  pid: number;
  gpu: number | null;
  backend: string;
  backendInfo: string | null;
  currentExperimentId: string | null;
  startedAt: string;
  lastSeenAt: string;
}

/** One message of a Server-Sent Events stream. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

export interface ApiClientOptions {
  /** Base URL of the API. Default: env FLEET_API_URL, else http://127.0.0.1:3000 */
  baseUrl?: string;
  /** Value of the x-api-key header. Default: env API_KEY (no header when unset). */
  apiKey?: string;
  /** Per-request timeout in ms (not applied to event streams). Default 15000 */
  timeoutMs?: number;
}

export interface FollowEventsOptions {
  /** Resume after this stream entry id (sent as Last-Event-ID). Default: from the start. */
  lastEventId?: string;
  /** Stops the stream (the generator then returns). */
  signal?: AbortSignal;
  /** Called before each reconnection attempt, with the error that ended the previous connection. */
  onReconnect?: (error: unknown, attempt: number) => void;
  /** Longest wait between reconnection attempts in ms. Default 5000 */
  maxBackoffMs?: number;
}

/** Adds --api and --api-key to a command that talks to the API. */
export function withApiOptions(command: Command): Command {
  return command
    .option('--api <url>', 'fleet API base URL (env FLEET_API_URL)', process.env.FLEET_API_URL ?? DEFAULT_API_URL)
    .option('--api-key <key>', 'API key sent as x-api-key (env API_KEY)', process.env.API_KEY);
}

/** Builds a client from the options added by withApiOptions. */
export function clientFromOptions(opts: { api?: string; apiKey?: string }): ApiClient {
  return new ApiClient({ baseUrl: opts.api, apiKey: opts.apiKey });
}

function describeFetchError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as NodeJS.ErrnoException).code;
      return code ? `${code}` : cause.message;
    }
    return err.message;
  }
  return String(err);
}

/** Turns an API error body ({statusCode, message, field?}) into one readable line. */
export function formatApiError(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; field?: unknown; error?: unknown };
    const messages = Array.isArray(b.message) ? b.message.map(String) : b.message !== undefined ? [String(b.message)] : [];
    const field = typeof b.field === 'string' ? b.field : undefined;
    const text = messages.join('; ') || (typeof b.error === 'string' ? b.error : '');
    if (field && text && !text.includes(field)) return `${field}: ${text}`;
    if (text) return text;
  }
  if (typeof body === 'string' && body.trim() !== '') return body.trim().slice(0, 300);
  return `HTTP ${status}`;
}

function exitCodeFor(status: number): number {
  if (status === 400 || status === 409 || status === 422) return ExitCode.Usage;
  if (status === 404) return ExitCode.NotFound;
  if (status === 401 || status === 403) return ExitCode.Unreachable;
  return ExitCode.Failure;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The CliError for an API error response (exit code by status). */
function apiError(status: number, body: unknown): CliError {
  const message = formatApiError(status, body);
  if (status === 401 || status === 403) return new CliError(`the API refused the request (${status}): ${message}; pass the right --api-key or set API_KEY`, ExitCode.Unreachable);
  return new CliError(message, exitCodeFor(status));
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions = {}) {
    const raw = options.baseUrl ?? process.env.FLEET_API_URL ?? DEFAULT_API_URL;
    try {
      new URL(raw);
    } catch {
      throw new CliError(`--api must be a URL such as ${DEFAULT_API_URL} (got "${raw}")`, ExitCode.Usage);
    }
    this.baseUrl = raw.replace(/\/+$/, '');
    this.apiKey = options.apiKey === '' ? undefined : (options.apiKey ?? (process.env.API_KEY || undefined));
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { accept: 'application/json', ...(this.apiKey ? { 'x-api-key': this.apiKey } : {}), ...extra };
  }

  /** Sends one JSON request; throws CliError with the exit code that matches the failure. */
  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new CliError(`cannot reach the fleet API at ${this.baseUrl}: ${describeFetchError(err)} (start it with \`npm run start:api\` or pass --api)`, ExitCode.Unreachable);
    }
    const parsed = parseBody(await res.text());
    if (!res.ok) throw apiError(res.status, parsed);
    return parsed as T;
  }

  /**
   * GET /api/experiments/:id/model: the .pth bytes and the class names (X-Model-Classes header).
   * Model files are tens of MB: the timeout is at least two minutes.
   */
  async downloadModel(id: string, epoch: 'best' | 'final'): Promise<{ bytes: Uint8Array; classes: string[]; epochNumber: number }> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/api/experiments/${encodeURIComponent(id)}/model?epoch=${epoch}`, { headers: this.headers(), signal: AbortSignal.timeout(Math.max(this.timeoutMs, 120_000)) });
    } catch (err) {
      throw new CliError(`cannot reach the fleet API at ${this.baseUrl}: ${describeFetchError(err)} (start it with \`npm run start:api\` or pass --api)`, ExitCode.Unreachable);
    }
    if (!res.ok) throw apiError(res.status, parseBody(await res.text()));
    const bytes = new Uint8Array(await res.arrayBuffer());
    return { bytes, classes: JSON.parse(res.headers.get('x-model-classes') ?? '[]') as string[], epochNumber: Number(res.headers.get('x-model-epoch')) };
  }

  getExperiment(id: string): Promise<ExperimentDetail> {
    return this.request('GET', `/api/experiments/${encodeURIComponent(id)}`);
  }

  listExperiments(query: Record<string, string | number | undefined> = {}): Promise<Page<ExperimentView>> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const suffix = qs.size > 0 ? `?${qs.toString()}` : '';
    return this.request('GET', `/api/experiments${suffix}`);
  }

  createExperiment(body: Record<string, unknown>): Promise<ExperimentView> {
    return this.request('POST', '/api/experiments', body);
  }

  createSweep(body: Record<string, unknown>): Promise<CreatedSweep> {
    return this.request('POST', '/api/sweeps', body);
  }

  listSweeps(): Promise<{ items: SweepSummary[] }> {
    return this.request('GET', '/api/sweeps');
  }

  getSweep(id: string): Promise<SweepDetail> {
    return this.request('GET', `/api/sweeps/${encodeURIComponent(id)}`);
  }

  compareSweep(id: string, groupBy = 'strategy'): Promise<CompareResult> {
    return this.request('GET', `/api/sweeps/${encodeURIComponent(id)}/compare?groupBy=${encodeURIComponent(groupBy)}`);
  }

  listWorkers(): Promise<{ items: WorkerView[] }> {
    return this.request('GET', '/api/workers');
  }

  cancelExperiment(id: string): Promise<ExperimentView> {
    return this.request('POST', `/api/experiments/${encodeURIComponent(id)}/cancel`);
  }

  /** Stops a sweep: nothing more is scheduled (searched sweeps), its queued and running runs are cancelled. */
  cancelSweep(id: string): Promise<{ experimentIds: string[] }> {
    return this.request('POST', `/api/sweeps/${encodeURIComponent(id)}/cancel`);
  }

  /** Deletes a finished experiment with its metrics and files (the API answers 409 while it is active). */
  async deleteExperiment(id: string): Promise<void> {
    await this.request('DELETE', `/api/experiments/${encodeURIComponent(id)}`);
  }

  /** Deletes a sweep whose runs have all ended, with its runs and their files. */
  deleteSweep(id: string): Promise<{ experimentIds: string[] }> {
    return this.request('DELETE', `/api/sweeps/${encodeURIComponent(id)}`);
  }

  /**
   * Finds what an id names: an experiment or a sweep. Throws CliError(NotFound) when neither exists.
   */
  async resolve(id: string): Promise<{ kind: 'experiment'; experiment: ExperimentDetail } | { kind: 'sweep'; sweep: SweepDetail }> {
    try {
      return { kind: 'experiment', experiment: await this.getExperiment(id) };
    } catch (err) {
      if (!(err instanceof CliError) || (err.exitCode !== ExitCode.NotFound && err.exitCode !== ExitCode.Usage)) throw err;
    }
    try {
      return { kind: 'sweep', sweep: await this.getSweep(id) };
    } catch (err) {
      if (err instanceof CliError && (err.exitCode === ExitCode.NotFound || err.exitCode === ExitCode.Usage)) {
        throw new CliError(`no experiment or sweep with id ${id}`, ExitCode.NotFound);
      }
      throw err;
    }
  }

  /** One connection to an experiment's event stream; ends when the server closes it. */
  async *events(experimentId: string, lastEventId?: string, signal?: AbortSignal): AsyncGenerator<SseMessage> {
    const res = await fetch(`${this.baseUrl}/api/experiments/${encodeURIComponent(experimentId)}/events`, {
      headers: this.headers({ accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }),
      signal,
    });
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => '');
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // plain-text body
      }
      throw new CliError(formatApiError(res.status, parsed), exitCodeFor(res.status));
    }
    yield* parseSse(res.body, signal);
  }

  /**
   * Follows an experiment's events across disconnections: reconnects with backoff and resumes from
   * the last received id, so no event is lost or repeated. Runs until the signal aborts or the
   * consumer stops iterating. 4xx answers (unknown experiment, bad key) end it with their CliError.
   */
  async *followEvents(experimentId: string, options: FollowEventsOptions = {}): AsyncGenerator<SseMessage> {
    let lastId = options.lastEventId;
    let attempt = 0;
    const maxBackoff = options.maxBackoffMs ?? 5000;
    while (!options.signal?.aborted) {
      let error: unknown = new Error('stream closed by the server');
      try {
        for await (const message of this.events(experimentId, lastId, options.signal)) {
          attempt = 0;
          if (message.id !== undefined) lastId = message.id;
          yield message;
        }
      } catch (err) {
        if (options.signal?.aborted) return;
        if (err instanceof CliError && err.exitCode !== ExitCode.Failure) throw err;
        error = err;
      }
      attempt += 1;
      options.onReconnect?.(error, attempt);
      await sleep(Math.min(maxBackoff, 250 * 2 ** Math.min(attempt - 1, 5)), options.signal);
    }
  }
}

/** Parses a text/event-stream body (WHATWG rules: id/event/data fields, blank line dispatches). */
export async function* parseSse(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  const onAbort = (): void => {
    reader.cancel().catch(() => undefined);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(buffer[nl] === '\r' && buffer[nl + 1] === '\n' ? nl + 2 : nl + 1);
        if (line === '') {
          if (data.length > 0) yield { id, event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'data') data.push(val);
        else if (field === 'event') event = val;
        else if (field === 'id' && !val.includes('\0')) id = val;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}

/** Decodes an SSE message into an ExperimentEvent, or undefined for other event types (e.g. snapshot). */
export function toExperimentEvent(message: SseMessage): ExperimentEvent | undefined {
  if (message.event !== 'status' && message.event !== 'progress' && message.event !== 'epoch') return undefined;
  try {
    const parsed = JSON.parse(message.data) as ExperimentEvent;
    return { ...parsed, type: message.event } as ExperimentEvent;
  } catch {
    return undefined;
  }
}

export const FINAL_STATUSES: readonly ExperimentStatusName[] = ['succeeded', 'failed', 'cancelled', 'stopped'];

export function isFinal(status: ExperimentStatusName): boolean {
  return FINAL_STATUSES.includes(status);
}
