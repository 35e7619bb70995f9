// The worker's Prometheus endpoint (--metrics-port): GET /metrics from its registry, nothing else.
// With METRICS_TOKEN set it answers only `Authorization: Bearer <token>`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { StartupError, metricsTokenAccepted } from '@fleet/config';
import type { Registry } from 'prom-client';

export class MetricsServer {
  private readonly server: http.Server;

  constructor(
    private readonly registry: Registry,
    private readonly token: string | undefined,
    private readonly log: (line: string) => void,
  ) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return this.reply(res, 404, 'not found: the worker serves GET /metrics only\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.reply(res, 405, 'method not allowed\n');
    if (!metricsTokenAccepted(this.token, req.headers.authorization)) return this.reply(res, 401, 'metrics need Authorization: Bearer <METRICS_TOKEN>\n');
    try {
      const body = await this.registry.metrics();
      res.writeHead(200, { 'Content-Type': this.registry.contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      this.log(`metrics: scrape failed: ${err instanceof Error ? err.message : String(err)}`);
      this.reply(res, 500, 'metrics unavailable\n');
    }
  }

  private reply(res: http.ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(text);
  }

  /** Listens on every interface (Prometheus scrapes from elsewhere); rejects with the port when it is taken. */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      // A StartupError: the worker exits with this one line, like an unreachable Postgres.
      const onError = (err: Error): void => reject(new StartupError(`--metrics-port ${port} cannot be used: ${err.message}`));
      this.server.once('error', onError);
      this.server.listen(port, () => {
        this.server.off('error', onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
