import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import {
  LOWEST_BUSINESS_PRIORITY,
  Reason,
  RpcError,
  Status,
  context,
  withContext,
  type Channel,
  type MethodDescriptor,
  type RequestContext,
  type ResponseStream,
  type ServerInterceptor,
  type ServiceDescriptor,
} from 'corpc';
import {
  TRACEPARENT,
  TRACESTATE,
  interceptServer,
  newTraceId,
  parseTraceParent,
  parseTraceState,
  streamingMethod,
  type EntryPriorities,
} from 'corpc/internal';
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
 *
 * A server-streaming method answers newline-delimited JSON (`application/x-ndjson`): one message
 * per line as the handler yields it, then a last line with the outcome, `{"status":"OK"}` or
 * `{"status":"<CODE>","message":…,"reason":…}` (the HTTP status is sent with the first message,
 * so a failure after it can only be told there). A failure before the first message is an
 * ordinary JSON error answer. See docs/streaming.md.
 *
 * A W3C `traceparent` header (and `tracestate`) continues the caller's trace: its trace id is the
 * request's, and both travel downstream in the metadata. The entry runs the server interceptors
 * it is given around each call, as a server would (a tracing one makes the entry's span there).
 */

export interface EntryService {
  readonly service: ServiceDescriptor;
  /** The channel to the entry service's servers. */
  readonly channel: Channel;
}

interface Route {
  readonly path: string;
  readonly method: MethodDescriptor;
  readonly business: number;
  readonly timeoutMs: number;
  /** Calls the method with the request's body, through the interceptors if there are any. */
  readonly call: (body: unknown, request: RequestContext) => unknown;
  /**
   * Of a server stream (else null): opens it through the entry's server interceptors and the
   * channel's client ones, and resolves with the responses' iterable.
   */
  readonly stream: ((body: unknown, request: RequestContext) => unknown) | null;
}

export interface HttpEntryOptions {
  readonly plan: HttpPlan;
  readonly services: readonly EntryService[];
  /** How priorities are assigned: the same settings as the entry servers' `entry` option. */
  readonly priorities: EntryPriorities;
  readonly logger: Logger;
  /** Run around each call, in its request context, as a server runs its interceptors. */
  readonly interceptors?: readonly ServerInterceptor[];
  readonly onRequest?: (
    route: string,
    status: number,
    business: number,
    seconds: number,
    actions: readonly string[],
  ) => void;
}

const TRACE_ID = /^[\w.-]{1,64}$/;

export class HttpEntry {
  private readonly routes = new Map<string, Route>();
  private readonly actionsByBusiness = new Map<number, string[]>();
  private readonly server: HttpServer;
  private readonly sockets = new Set<Socket>();
  private draining = false;

  constructor(private readonly options: HttpEntryOptions) {
    const interceptors = options.interceptors ?? [];
    for (const { service, channel } of options.services) {
      for (const [key, method] of Object.entries(service.methods)) {
        const business = options.priorities.businessOf(method);
        const direct = (body: unknown): Promise<unknown> => channel.call(method, body);
        const call = interceptors.length === 0 ? direct : interceptServer(interceptors, service, method, direct);
        const timeoutMs = method.timeoutMs ?? options.plan.timeoutMs;
        const route: Route = {
          path: method.path,
          method,
          business,
          timeoutMs,
          call,
          stream: method.kind === 'server-stream' ? entryStream(interceptors, service, method, channel) : null,
        };
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
    const traceParent = parseTraceParent(req.headers[TRACEPARENT]);
    const traceHeader = req.headers['x-trace-id'];
    const traceId =
      traceParent?.traceId ??
      (typeof traceHeader === 'string' && TRACE_ID.test(traceHeader) ? traceHeader : newTraceId());
    res.setHeader('x-trace-id', traceId);
    if (this.draining) res.setHeader('connection', 'close');
    if (route === undefined) {
      return this.fail(
        res,
        null,
        started,
        new RpcError(Status.NOT_FOUND, `no method at ${req.url}: POST /<Service>/<Method>`, {
          reason: Reason.UnknownMethod,
        }),
      );
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return this.reply(res, route, started, 405, {
        code: 'METHOD_NOT_ALLOWED',
        message: `${route.path}: use POST with a JSON body`,
      });
    }
    let body: unknown;
    try {
      body = await this.readJson(req);
    } catch (error) {
      return this.fail(res, route, started, RpcError.from(error));
    }
    const userHeader = req.headers[this.options.plan.userIdHeader];
    const priorities = this.options.priorities;
    const metadata: Record<string, string> = {};
    if (typeof userHeader === 'string' && userHeader !== '') metadata[priorities.userIdKey] = userHeader;
    if (traceParent !== null) {
      metadata[TRACEPARENT] = req.headers[TRACEPARENT] as string;
      const traceState = parseTraceState(req.headers[TRACESTATE]);
      if (traceState !== null) metadata[TRACESTATE] = traceState;
    }
    const kind = route.method.kind ?? 'unary';
    if (kind !== 'unary' && kind !== 'server-stream') {
      return this.fail(
        res,
        route,
        started,
        new RpcError(
          Status.UNIMPLEMENTED,
          `${route.path} is a ${kind} method: the HTTP entry serves unary methods and server streams`,
          {
            reason: Reason.WrongMethodKind,
          },
        ),
      );
    }
    const options = {
      name: route.path,
      timeoutMs: route.timeoutMs,
      businessPriority: route.business,
      // As the entry server will: from the user id, else from the trace id.
      userPriority: priorities.userOf(metadata, traceId),
      metadata,
      traceId,
    };
    if (kind === 'server-stream') return withContext(options, () => this.stream(res, route, started, body, traceId));
    // Set inside the call (the context withContext starts), read after it.
    let request = null as RequestContext | null;
    try {
      const result = await withContext(options, () => route.call(body, (request = context())));
      // An interceptor may have made another id the request's (a tracing one: its trace's).
      res.setHeader('x-trace-id', request?.traceId ?? traceId);
      this.reply(res, route, started, 200, result ?? {});
    } catch (error) {
      if (request !== null) res.setHeader('x-trace-id', request.traceId);
      const problem = RpcError.from(error, route.path);
      if (problem !== error)
        this.options.logger.error({ err: error, traceId: request?.traceId ?? traceId }, `${route.path} failed`);
      this.fail(res, route, started, problem);
    }
  }

  /** A server stream as NDJSON: a line per message, then the outcome's line. */
  private async stream(
    res: ServerResponse,
    route: Route,
    started: number,
    body: unknown,
    traceId: string,
  ): Promise<void> {
    const request = context();
    let messages: AsyncIterator<unknown>;
    let step: IteratorResult<unknown>;
    try {
      messages = ((await route.stream!(body, request)) as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      step = await messages.next();
    } catch (error) {
      return this.fail(res, route, started, RpcError.from(error, route.path));
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    // The HTTP caller went away: so does the stream, made in this request (its handler is cancelled).
    res.on('close', () => {
      if (!res.writableFinished) {
        request.cancel(
          new RpcError(Status.CANCELLED, `${route.path}: the HTTP caller went away`, { reason: Reason.CallerGone }),
        );
      }
    });
    let outcome: Record<string, string> = { status: 'OK' };
    try {
      while (step.done !== true) {
        // A slow HTTP reader stops taking messages, so the stream's credit stops the handler.
        if (!res.write(`${JSON.stringify(step.value)}\n`)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
        if (res.destroyed) break;
        step = await messages.next();
      }
    } catch (error) {
      const problem = RpcError.from(error, route.path);
      if (problem !== error) this.options.logger.error({ err: error, traceId }, `${route.path} failed`);
      outcome = {
        status: problem.code,
        message: problem.message,
        ...(problem.reason === undefined ? {} : { reason: problem.reason }),
      };
    }
    if (!res.destroyed) res.end(`${JSON.stringify(outcome)}\n`);
    this.record(route, started, 200);
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
    this.record(route, started, status);
  }

  /** Counts an answered request for the metrics. */
  private record(route: Route | null, started: number, status: number): void {
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
          reject(
            new RpcError(Status.INVALID_ARGUMENT, `the request body is larger than ${limit} bytes`, {
              reason: Reason.BodyTooLarge,
            }),
          );
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
          reject(
            new RpcError(Status.INVALID_ARGUMENT, `the request body is not valid JSON: ${(error as Error).message}`, {
              reason: Reason.BadJson,
            }),
          );
        }
      });
    });
  }
}

/** A server stream as the entry opens it: through its server interceptors, then the channel's stream (with the channel's client interceptors). */
function entryStream(
  interceptors: readonly ServerInterceptor[],
  service: ServiceDescriptor,
  method: MethodDescriptor,
  channel: Channel,
): (body: unknown, request: RequestContext) => unknown {
  const open = streamingMethod(channel, method, []) as (request: unknown) => ResponseStream<unknown>;
  const direct = (body: unknown): Promise<unknown> => Promise.resolve(open(body));
  return interceptors.length === 0 ? direct : interceptServer(interceptors, service, method, direct);
}
