import type { RequestContext } from './context.ts';
import { Reason, RpcError, Status } from './errors.ts';
import { defineService, method, serverStream, type ServiceHandlers } from './service.ts';
import { decoder, fail, fields } from './validation.ts';

/**
 * The health service every corpc server answers, with the semantics of gRPC's
 * `grpc.health.v1.Health`: a status per service name, `""` for the server as a whole.
 *
 * - `Check({ service })` answers the current status, or NOT_FOUND for a name the server does not know.
 * - `Watch({ service })` is a server stream: the current status at once, then one message per
 *   change. An unknown name is `SERVICE_UNKNOWN` (as gRPC's Watch says), and the stream stays
 *   open until the name is set. A drain ends every Watch: NOT_SERVING, then the end of the stream.
 *
 * The server itself is SERVING while it listens, every added service SERVING from `addService`,
 * and everything NOT_SERVING from the start of a drain (`server.close()`), for good: later
 * `set` calls are ignored, as in grpc-java's terminal state. An open Watch is a running handler
 * on the server (it holds a handler slot until its stream ends), as any open stream is.
 */

export type ServingStatus = 'SERVING' | 'NOT_SERVING';
/** What Watch sends: a status, or SERVICE_UNKNOWN for a name the server does not know. */
export type WatchedStatus = ServingStatus | 'SERVICE_UNKNOWN';

const SERVING_STATUSES: readonly string[] = ['SERVING', 'NOT_SERVING'];

export interface HealthCheckRequest {
  /** A service's full name (`corpc.demo.Gateway`); `""` for the whole server. */
  service: string;
}
export interface HealthCheckResponse {
  status: WatchedStatus;
}

/** Who hears of every status change (the runtime tells its supervisor, for `/readyz`). */
export type HealthListener = (service: string, status: ServingStatus) => void;

/** The statuses of one server: `server.health`. */
export class Health {
  private readonly statuses = new Map<string, ServingStatus>([['', 'NOT_SERVING']]);
  private readonly listeners = new Set<HealthListener>();
  /** The open Watch streams, each woken by a change (or the drain) to look at its service again. */
  private readonly watches = new Set<() => void>();
  private terminal = false;

  /** The status of `service` (`""`: the server), or undefined for a name not known here. */
  get(service = ''): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Sets a service's status (a new name becomes known). Ignored once the server drains. */
  set(service: string, status: ServingStatus): void {
    if (typeof service !== 'string')
      throw new TypeError(`health.set: the service name must be a string, got ${typeof service}`);
    if (!SERVING_STATUSES.includes(status)) {
      throw new TypeError(
        `health.set(${JSON.stringify(service)}): status must be "SERVING" or "NOT_SERVING", got ${JSON.stringify(status)}`,
      );
    }
    if (this.terminal) return;
    this.update(service, status);
  }

  /** Every name and its status, the server's as `""`. */
  all(): Record<string, ServingStatus> {
    return Object.fromEntries(this.statuses);
  }

  /** Calls `listener` on every change; returns the function that stops it. */
  subscribe(listener: HealthListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal The server drains: everything NOT_SERVING, for good; every Watch sends so and ends. */
  shutdown(): void {
    if (this.terminal) return;
    for (const service of this.statuses.keys()) this.update(service, 'NOT_SERVING');
    this.terminal = true;
    // Woken here too: a Watch whose status did not change above (NOT_SERVING already, or a name never set).
    this.wakeWatches();
  }

  /** @internal Watch streams open now (each is one running handler). */
  get openWatches(): number {
    return this.watches.size;
  }

  /** @internal Check: the status, or NOT_FOUND. */
  check(request: HealthCheckRequest): HealthCheckResponse {
    const status = this.statuses.get(request.service);
    if (status === undefined) {
      throw new RpcError(Status.NOT_FOUND, `health: no service "${request.service}" on this server`, {
        reason: Reason.UnknownService,
      });
    }
    return { status };
  }

  /**
   * @internal Watch: the status now, then each change, until the caller leaves (its context is
   * cancelled) or the server drains. A change made while the last message waits for the
   * caller's credit is folded into the next: the stream sends the latest status, never a backlog
   * (as grpc-go does), so a slow reader holds one status, not every flip it missed.
   */
  async *watch(request: HealthCheckRequest, context: RequestContext): AsyncGenerator<HealthCheckResponse> {
    const { service } = request;
    let wake: (() => void) | null = null;
    const notify = (): void => {
      const resume = wake;
      wake = null;
      resume?.();
    };
    this.watches.add(notify);
    context.signal.addEventListener('abort', notify);
    try {
      let sent: WatchedStatus | null = null;
      for (;;) {
        const status: WatchedStatus = this.terminal ? 'NOT_SERVING' : (this.statuses.get(service) ?? 'SERVICE_UNKNOWN');
        if (status !== sent) {
          sent = status;
          yield { status };
          // Looked at again at once: a change during the yield woke no one.
          continue;
        }
        if (this.terminal) return;
        // Nothing to send: parked until `update`, the drain or the caller's leaving calls `notify`.
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        context.throwIfCancelled();
      }
    } finally {
      this.watches.delete(notify);
      context.signal.removeEventListener('abort', notify);
    }
  }

  private update(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    this.wakeWatches();
    for (const listener of this.listeners) listener(service, status);
  }

  private wakeWatches(): void {
    for (const notify of this.watches) notify();
  }
}

function decodeCheckRequest(value: unknown): HealthCheckRequest {
  const service = fields(value).service ?? '';
  if (typeof service !== 'string') fail('service', 'a string', service);
  return { service };
}

function decodeResponse(value: unknown): HealthCheckResponse {
  const status = fields(value).status;
  if (status !== 'SERVICE_UNKNOWN' && (typeof status !== 'string' || !SERVING_STATUSES.includes(status))) {
    fail('status', 'SERVING, NOT_SERVING or SERVICE_UNKNOWN', status);
  }
  return { status: status as WatchedStatus };
}

const PACKAGE = 'corpc.health.v1';
const PATH = `${PACKAGE}.Health`;

/**
 * The health service's descriptor: `createClient(HealthService, target).check({ service: '' })`,
 * `for await (const { status } of client.watch({ service: '' }, { timeoutMs })) …`.
 */
export const HealthService = defineService(
  PATH,
  {
    check: method<HealthCheckRequest, HealthCheckResponse, Partial<HealthCheckRequest>>({
      path: `${PATH}/Check`,
      decodeRequest: decoder(`${PATH}/Check`, 'request', decodeCheckRequest),
      decodeResponse: decoder(`${PATH}/Check`, 'response', decodeResponse),
      idempotent: true,
      requestType: `${PACKAGE}.HealthCheckRequest`,
      responseType: `${PACKAGE}.HealthCheckResponse`,
    }),
    // gRPC's Watch: the request of Check, a stream of its response.
    watch: serverStream<HealthCheckRequest, HealthCheckResponse, Partial<HealthCheckRequest>>({
      path: `${PATH}/Watch`,
      decodeRequest: decoder(`${PATH}/Watch`, 'request', decodeCheckRequest),
      decodeResponse: decoder(`${PATH}/Watch`, 'response', decodeResponse),
      idempotent: true,
      requestType: `${PACKAGE}.HealthCheckRequest`,
      responseType: `${PACKAGE}.HealthCheckResponse`,
    }),
  },
  {
    types: [
      {
        kind: 'message',
        name: `${PACKAGE}.HealthCheckRequest`,
        fields: [{ name: 'service', number: 1, type: 'string' }],
      },
      // `status`: "SERVING", "NOT_SERVING" or "SERVICE_UNKNOWN" (a string on the wire, readable in JSON).
      {
        kind: 'message',
        name: `${PACKAGE}.HealthCheckResponse`,
        fields: [{ name: 'status', number: 1, type: 'string' }],
      },
    ],
  },
);

/** @internal The handlers a server registers for its `health`. */
export function healthHandlers(health: Health): ServiceHandlers<typeof HealthService> {
  return {
    check: (request) => health.check(request),
    watch: (request, context) => health.watch(request, context),
  };
}
