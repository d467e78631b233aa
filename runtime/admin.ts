import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DASHBOARD_HTML } from './dashboard-page.ts';
import type { DashboardView } from './dashboard.ts';
import { listenHttp, pathOf } from './http-server.ts';

/**
 * The admin port of a process group (served by the supervisor):
 * `/healthz` liveness, `/readyz` readiness (503 while starting or draining, or while a unit's
 * health is NOT_SERVING in a worker), `/metrics`
 * Prometheus text of every worker, `/dashboard` the live page and `/dashboard.json` its data.
 */
export interface AdminSource {
  readonly ready: boolean;
  /** Each unit's health over the live workers (SERVING / NOT_SERVING). */
  readonly units: Readonly<Record<string, string>>;
  readonly draining: boolean;
  readonly liveWorkers: number;
  metrics(): Promise<{ contentType: string; text: string }>;
  /** The dashboard's data; with `since`, the history points after that seq. */
  view(since: number | null): DashboardView;
}

export class AdminServer {
  private readonly server: HttpServer;

  constructor(private readonly source: AdminSource) {
    this.server = createServer((req, res) => {
      const path = pathOf(req.url);
      const send = (status: number, type: string, body: string): void => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      };
      const json = (status: number, body: unknown): void => send(status, 'application/json', JSON.stringify(body));
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'use GET' });
      switch (path) {
        case '/healthz':
          return json(200, { ok: true });
        case '/readyz': {
          const ready = this.source.ready;
          return json(ready ? 200 : 503, {
            ready,
            draining: this.source.draining,
            workers: this.source.liveWorkers,
            units: this.source.units,
          });
        }
        case '/metrics':
          this.source.metrics().then(
            ({ contentType, text }) => send(200, contentType, text),
            (error: Error) => send(500, 'text/plain', `metrics unavailable: ${error.message}\n`),
          );
          return;
        case '/':
        case '/dashboard':
          return send(200, 'text/html; charset=utf-8', DASHBOARD_HTML);
        case '/dashboard.json': {
          const since = new URL(req.url ?? '/', 'http://admin').searchParams.get('since');
          if (since !== null && !/^\d+$/.test(since))
            return json(400, { error: `since must be a history seq (an integer ≥ 0), got "${since}"` });
          return json(200, this.source.view(since === null ? null : Number(since)));
        }
        default:
          return json(404, { error: `no ${path}: try /healthz, /readyz, /metrics, /dashboard` });
      }
    });
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return listenHttp(this.server, port, host);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
