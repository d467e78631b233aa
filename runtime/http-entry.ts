import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  LOWEST_BUSINESS_PRIORITY,
  RpcError,
  Status,
  newTraceId,
  withContext,
  type Channel,
  type MethodDescriptor,
  type ServiceDescriptor,
} from 'corpc';
import type { EntryPriorities } from 'corpc/internal';
import type { Logger } from 'pino';
import { listenHttp, pathOf } from './http-server.ts';
import { httpStatusOf } from './http-status.ts';
import { methodNames } from './method-names.ts';
import type { HttpPlan } from './plan.ts';

/**
 * The HTTP/JSON entry: `POST /<Service>/<Method>` with a JSON body calls that method of an
 * entry service and answers its result as JSON. The entry decides priorities itself, with the
 * framework's `EntryPriorities` configured exactly as the entry servers' (same secret, same
 * table), so the level it sheds by locally is the level the entry server assigns: business
 * priority from the table (the method's, or a config override; unknown actions get the lowest),
 * user priority from the keyed hourly hash of the user-id header. Priorities sent by the caller
 * are ignored. The user id travels downstream as request metadata (`user-id`).
 */

export interface EntryService {
  readonly service: ServiceDescriptor;
  /** The channel to the entry service's servers. */
  readonly channel: Channel;
}

interface Route {
  readonly path: string;
  readonly method: MethodDescriptor;
  readonly channel: Channel;
  readonly business: number;
  readonly timeoutMs: number;
}

export interface HttpEntryOptions {
  readonly plan: HttpPlan;
  readonly services: readonly EntryService[];
  /** How priorities are assigned: the same settings as the entry servers' `entry` option. */
  readonly priorities: EntryPriorities;
  readonly logger: Logger;
  readonly onRequest?: (route: string, status: number, business: number, seconds: number, actions: readonly string[]) => void;
}

const TRACE_ID = /^[\w.-]{1,64}$/;

export class HttpEntry {
  private readonly routes = new Map<string, Route>();
  private readonly actionsByBusiness = new Map<number, string[]>();
  private readonly server: HttpServer;
  private readonly sockets = new Set<Socket>();
  private draining = false;

  constructor(private readonly options: HttpEntryOptions) {
    for (const { service, channel } of options.services) {
      for (const [key, method] of Object.entries(service.methods)) {
        const business = options.priorities.businessOf(method);
        const route: Route = { path: method.path, method, channel, business, timeoutMs: method.timeoutMs ?? options.plan.timeoutMs };
        // Reachable by its wire path (/corpc.demo.Gateway/Login), by the service's short name
        // (/Gateway/Login), and by the client's lowerCamel method name (/Gateway/login).
        for (const alias of methodNames(service, key, method)) this.routes.set(`/${alias}`, route);
        const actions = this.actionsByBusiness.get(business) ?? [];
        if (!actions.includes(method.path)) actions.push(method.path);
        this.actionsByBusiness.set(business, actions);
      }
    }
    this.server = createHttpServer({ keepAliveTimeout: 5000 }, (req, res) => void this.handle(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  listen(): Promise<AddressInfo> {
    return listenHttp(this.server, this.options.plan.port, this.options.plan.host);
  }

  /** Stops accepting; requests in flight finish within `graceMs`, then the connections are cut. */
  close(graceMs: number): Promise<void> {
    this.draining = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const route = this.routes.get(pathOf(req.url));
    const traceHeader = req.headers['x-trace-id'];
    const traceId = typeof traceHeader === 'string' && TRACE_ID.test(traceHeader) ? traceHeader : newTraceId();
    res.setHeader('x-trace-id', traceId);
    if (this.draining) res.setHeader('connection', 'close');
    if (route === undefined) {
      return this.fail(res, null, started, new RpcError(Status.NOT_FOUND, `no method at ${req.url}: POST /<Service>/<Method>`));
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return this.reply(res, route, started, 405, { code: 'METHOD_NOT_ALLOWED', message: `${route.path}: use POST with a JSON body` });
    }
    let body: unknown;
    try {
      body = await this.readJson(req);
    } catch (error) {
      return this.fail(res, route, started, RpcError.from(error));
    }
    const userHeader = req.headers[this.options.plan.userIdHeader];
    const priorities = this.options.priorities;
    const metadata = typeof userHeader === 'string' && userHeader !== '' ? { [priorities.userIdKey]: userHeader } : null;
    try {
      const result = await withContext(
        {
          name: route.path,
          timeoutMs: route.timeoutMs,
          businessPriority: route.business,
          // As the entry server will: from the user id, else from the trace id.
          userPriority: priorities.userOf(metadata, traceId),
          metadata: metadata ?? undefined,
          traceId,
        },
        () => route.channel.call(route.method, body),
      );
      this.reply(res, route, started, 200, result ?? {});
    } catch (error) {
      const problem = RpcError.from(error, route.path);
      if (problem !== error) this.options.logger.error({ err: error, traceId }, `${route.path} failed`);
      this.fail(res, route, started, problem);
    }
  }

  private fail(res: ServerResponse, route: Route | null, started: number, error: RpcError): void {
    if (error.status === Status.RESOURCE_EXHAUSTED) res.setHeader('retry-after', '1');
    this.reply(res, route, started, httpStatusOf(error.status), {
      code: error.code,
      message: error.message,
      ...(error.reason === undefined ? {} : { reason: error.reason }),
    });
  }

  private reply(res: ServerResponse, route: Route | null, started: number, status: number, body: unknown): void {
    let text: string;
    try {
      text = JSON.stringify(body);
    } catch {
      status = 500;
      text = JSON.stringify({ code: 'INTERNAL', message: 'the answer cannot be written as JSON' });
    }
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    const business = route?.business ?? LOWEST_BUSINESS_PRIORITY;
    this.options.onRequest?.(
      route?.path ?? 'unknown',
      status,
      business,
      (performance.now() - started) / 1000,
      this.actionsByBusiness.get(business) ?? [],
    );
  }

  private readJson(req: IncomingMessage): Promise<unknown> {
    const limit = this.options.plan.maxBodyBytes;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          // Answer now; the rest of the body is read and dropped.
          req.removeAllListeners('data');
          req.resume();
          reject(new RpcError(Status.INVALID_ARGUMENT, `the request body is larger than ${limit} bytes`, { reason: 'body_too_large' }));
          return;
        }
        chunks.push(chunk);
      });
      req.on('error', reject);
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8').trim();
        if (text === '') return resolve({});
        try {
          resolve(JSON.parse(text));
        } catch (error) {
          reject(new RpcError(Status.INVALID_ARGUMENT, `the request body is not valid JSON: ${(error as Error).message}`, { reason: 'bad_json' }));
        }
      });
    });
  }
}
