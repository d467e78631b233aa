import { debuglog } from 'node:util';
import { InvalidArgumentError, RpcError, Status } from '../errors.ts';
import { now } from '../deadline.ts';
import { DEFAULT_TIMEOUT_MS, currentContext, newTraceId, userPriorityOfTrace, type Metadata, type RequestContext } from '../context.ts';
import { integerOption, numberOption } from '../options.ts';
import { CallerLevel } from '../admission/caller-level.ts';
import { RetryBudget } from '../admission/retry-budget.ts';
import { LOWEST_BUSINESS_PRIORITY, checkBusinessPriority, checkUserPriority, compoundLevel } from '../priority.ts';
import { DEFAULT_MAX_FRAME_BYTES, RequestHeader, REQUEST_HEADER_FIELDS } from '../protocol/index.ts';
import type { MethodDescriptor } from '../service.ts';
import { ClientConnection, PendingCall, RemoteRpcError, type ConnectionEvents } from './client-connection.ts';

const debug = debuglog('corpc:client');

export interface ChannelOptions {
  /** Connections kept to each server address; calls go to the least busy. Default 1. */
  connectionsPerEndpoint?: number;
  /** Default deadline of calls made outside any request, in ms. Default 500. */
  timeoutMs?: number;
  /** Business priority of calls made outside any request. Default: the method's, else the lowest. */
  businessPriority?: number;
  /** User priority of calls made outside any request. Default: derived from the trace id. */
  userPriority?: number;
  /** Largest frame accepted from a server. Default 4 MiB. */
  maxFrameBytes?: number;
  /** Calls one connection may have in flight; beyond that, calls fail with RESOURCE_EXHAUSTED. Default 4096. */
  maxInFlightPerConnection?: number;
  /** Request bytes a connection may have waiting to be sent; beyond that, calls fail. Default 8 MiB. */
  maxBufferedBytesPerConnection?: number;
  /** First reconnect delay after a failed connect, doubled per failure up to `maxBackoffMs`. Default 100. */
  initialBackoffMs?: number;
  /** Default 5000. */
  maxBackoffMs?: number;
  /** A server's admission level that no answer refreshed for this long is forgotten. Default 1000 ms. */
  admissionLevelTtlMs?: number;
  /** Retries of a call a server rejected as overloaded (on the next endpoint, within the deadline). Default 3. */
  maxRetries?: number;
  /** Retry budget: retries per successful call, over time. Default 0.1. */
  retryBudgetRatio?: number;
}

export interface CallOptions {
  /** Budget for this call in ms; inside a request it can only shorten the inherited deadline. */
  timeoutMs?: number;
  /** Overrides the business priority (otherwise inherited from the current request). */
  businessPriority?: number;
  /** Overrides the user priority (otherwise inherited from the current request). */
  userPriority?: number;
  metadata?: Metadata;
  traceId?: string;
  /** Aborting it cancels the call (the server is told). */
  signal?: AbortSignal;
}

/** One server address and the connections to it. */
class Endpoint implements ConnectionEvents {
  readonly address: string;
  /** The admission level this server last reported (compound B*128+U), expiring if not refreshed. */
  readonly admission: CallerLevel;
  private readonly connections: (ClientConnection | null)[];
  private failures = 0;
  private retryAt = 0;
  private lastError: RpcError | null = null;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly channel: Channel,
  ) {
    this.address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    this.connections = new Array<ClientConnection | null>(channel.connectionsPerEndpoint).fill(null);
    this.admission = new CallerLevel(channel.admissionLevelTtlMs);
  }

  /** The least busy usable connection, opening one where a slot is free; null while backing off. */
  pick(): ClientConnection | null {
    let best: ClientConnection | null = null;
    const connections = this.connections;
    for (let i = 0; i < connections.length; i++) {
      let connection = connections[i]!;
      if (connection === null || !connection.usable) {
        if (now() < this.retryAt) continue;
        connection = connections[i] = new ClientConnection(this.host, this.port, this.channel.maxFrameBytes, this);
      }
      if (best === null || connection.load < best.load) best = connection;
    }
    return best;
  }

  /** Why the endpoint cannot take calls now. */
  unavailable(): RpcError {
    const wait = Math.max(0, Math.ceil(this.retryAt - now()));
    const cause = this.lastError?.message ?? `no connection to ${this.address}`;
    return new RpcError(Status.UNAVAILABLE, `${cause} (next attempt in ${wait} ms)`, { reason: 'unavailable' });
  }

  onAdmissionLevel(level: number, ok: boolean): void {
    this.admission.update(level, now());
    if (ok) this.channel.retryBudget.success();
  }

  onReady(): void {
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = null;
  }

  onClosed(connection: ClientConnection, error: RpcError | null): void {
    const index = this.connections.indexOf(connection);
    if (index !== -1) this.connections[index] = null;
    if (error === null) return;
    // A connect that failed: back off (exponentially, with jitter) before trying this address again.
    this.lastError = error;
    const base = Math.min(this.channel.maxBackoffMs, this.channel.initialBackoffMs * 2 ** this.failures);
    this.failures++;
    this.retryAt = now() + base * (0.8 + Math.random() * 0.4);
    debug('%s unreachable (%s); retrying in %d ms', this.address, error.message, Math.round(this.retryAt - now()));
  }

  /** Connections, for drain and destroy. */
  each(visit: (connection: ClientConnection) => void): void {
    for (const connection of this.connections) if (connection !== null) visit(connection);
  }
}

type ChannelState = 'open' | 'closing' | 'closed';

/**
 * A client's link to one service target: its endpoints, their connections, and the call path
 * (context inheritance, local admission, deadline, encode). Typed clients and untyped calls
 * both go through `call`.
 */
export class Channel {
  readonly target: string;
  readonly connectionsPerEndpoint: number;
  readonly maxFrameBytes: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly admissionLevelTtlMs: number;
  /** @internal */
  readonly retryBudget: RetryBudget;
  private readonly timeoutMs: number;
  private readonly businessPriority: number | undefined;
  private readonly userPriority: number | undefined;
  private readonly maxInFlightPerConnection: number;
  private readonly maxBufferedBytes: number;
  private readonly endpoints: Endpoint[];
  private readonly methodsByPath = new Map<string, MethodDescriptor>();
  private nextEndpoint = 0;
  private state: ChannelState = 'open';

  constructor(target: string, options: ChannelOptions = {}) {
    this.target = target;
    this.connectionsPerEndpoint = integerOption('connectionsPerEndpoint', options.connectionsPerEndpoint, 1, 1, 64);
    this.timeoutMs = integerOption('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 1);
    this.businessPriority = checkBusinessPriority('businessPriority', options.businessPriority);
    this.userPriority = checkUserPriority('userPriority', options.userPriority);
    this.maxFrameBytes = integerOption('maxFrameBytes', options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 1024);
    this.maxInFlightPerConnection = integerOption('maxInFlightPerConnection', options.maxInFlightPerConnection, 4096, 1);
    this.maxBufferedBytes = integerOption(
      'maxBufferedBytesPerConnection',
      options.maxBufferedBytesPerConnection,
      8 * 1024 * 1024,
      1024,
    );
    this.initialBackoffMs = integerOption('initialBackoffMs', options.initialBackoffMs, 100, 1);
    this.maxBackoffMs = integerOption('maxBackoffMs', options.maxBackoffMs, 5000, this.initialBackoffMs);
    this.admissionLevelTtlMs = integerOption('admissionLevelTtlMs', options.admissionLevelTtlMs, 1000, 1);
    this.retryBudget = new RetryBudget(
      integerOption('maxRetries', options.maxRetries, 3, 0, 10),
      numberOption('retryBudgetRatio', options.retryBudgetRatio, 0.1, 0, 1),
      10,
    );
    this.endpoints = parseTarget(target).map(({ host, port }) => new Endpoint(host, port, this));
  }

  /**
   * Calls a method. Inside a request, the call inherits its deadline (what is left of it), its
   * priorities, trace id and metadata, and is cancelled with it.
   */
  call(method: MethodDescriptor | string, request: unknown, options?: CallOptions): Promise<unknown> {
    const descriptor = typeof method === 'string' ? this.describe(method) : method;
    const parent = currentContext() ?? null;
    const start = now();
    // Outside a request, a call gets its own budget; inside one, it inherits what is left of the
    // request's deadline, which only an explicit per-call timeout can shorten.
    let deadline: number;
    if (parent === null) {
      deadline = start + (options?.timeoutMs ?? descriptor.timeoutMs ?? this.timeoutMs);
    } else {
      if (parent.cancelled) return Promise.reject(parentEnded(parent.deadline <= start, descriptor));
      deadline = parent.deadline;
      const timeoutMs = options?.timeoutMs;
      if (timeoutMs !== undefined && start + timeoutMs < deadline) deadline = start + timeoutMs;
    }
    if (this.state !== 'open') {
      return Promise.reject(new RpcError(Status.UNAVAILABLE, `${descriptor.path}: the client is closed`, { reason: 'client_closed' }));
    }
    const traceId = options?.traceId ?? parent?.traceId ?? newTraceId();
    const business =
      options?.businessPriority ?? parent?.businessPriority ?? descriptor.businessPriority ?? this.businessPriority ?? LOWEST_BUSINESS_PRIORITY;
    const user = options?.userPriority ?? parent?.userPriority ?? this.userPriority ?? userPriorityOfTrace(traceId);
    const metadata = options?.metadata ?? parent?.metadata ?? null;
    const attempt = new Attempt(descriptor, request, parent, deadline, business, user, traceId, metadata, options?.signal);
    const sent = this.send(attempt);
    if (this.retryBudget.maxRetries === 0) return sent;
    return sent.catch((error: unknown) => this.retry(error, attempt));
  }

  /** Retries a call a server rejected as overloaded on the next endpoint, within the budget and the deadline. */
  private retry(error: unknown, attempt: Attempt): Promise<unknown> {
    attempt.count++;
    const { parent, signal } = attempt;
    if (!(error instanceof RpcError) || !this.retryBudget.allows(error, error instanceof RemoteRpcError, attempt.count, attempt.deadline, now())) {
      return Promise.reject(error);
    }
    if (this.state !== 'open' || signal?.aborted === true || parent?.cancelled === true) return Promise.reject(error);
    debug('%s: retrying (attempt %d) after %s', attempt.descriptor.path, attempt.count + 1, error.reason ?? error.code);
    return this.send(attempt).catch((next: unknown) => this.retry(next, attempt));
  }

  /** One attempt: pick an endpoint, shed locally or send. */
  private send(attempt: Attempt): Promise<unknown> {
    const { descriptor, request, parent, deadline, business, user, traceId, metadata, signal } = attempt;
    const start = now();
    const timeoutMs = Math.max(1, Math.floor(deadline - start));
    const level = compoundLevel(business, user);
    // An endpoint whose last reported level sheds this call is skipped; the call fails locally
    // (nothing sent) only when every endpoint would shed it.
    let endpoint = this.pickEndpoint();
    for (let tries = this.endpoints.length; endpoint !== null && tries > 1 && endpoint.admission.sheds(level, start); tries--) {
      endpoint = this.pickEndpoint();
    }
    if (endpoint === null) return Promise.reject(this.unavailable(descriptor));
    if (endpoint.admission.sheds(level, start)) {
      return Promise.reject(
        new RpcError(
          Status.RESOURCE_EXHAUSTED,
          `${descriptor.path}: ${endpoint.address} is overloaded and admits up to level ${endpoint.admission.level}; this call's level is ${level}, so it was not sent`,
          { reason: 'local_admission' },
        ),
      );
    }
    const connection = endpoint.pick();
    if (connection === null) return Promise.reject(endpoint.unavailable());
    if (connection.load >= this.maxInFlightPerConnection || connection.writer.bufferedBytes > this.maxBufferedBytes) {
      return Promise.reject(
        new RpcError(
          Status.RESOURCE_EXHAUSTED,
          `${descriptor.path}: too many calls waiting on the connection to ${endpoint.address}`,
          { reason: 'client_backlog' },
        ),
      );
    }

    const header = requestHeader;
    header[RequestHeader.METHOD] = descriptor.path;
    header[RequestHeader.DEADLINE_MS] = timeoutMs;
    header[RequestHeader.BUSINESS] = business;
    header[RequestHeader.USER] = user;
    header[RequestHeader.TRACE_ID] = traceId;
    header[RequestHeader.METADATA] = metadata;

    return new Promise((resolve, reject) => {
      const call = new PendingCall(connection, connection.allocateId(), descriptor, parent, timeoutMs, resolve, reject);
      try {
        connection.send(call, header, request, deadline);
      } catch (error) {
        connection.pending.delete(call.id);
        reject(new RpcError(Status.INVALID_ARGUMENT, `${descriptor.path}: the request cannot be encoded`, { cause: error }));
        return;
      }
      if (signal !== undefined) watchSignal(signal, call);
    });
  }

  /** Stops taking calls, lets those in flight finish, then closes the connections. */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closing';
    const closing: Promise<void>[] = [];
    for (const endpoint of this.endpoints) {
      endpoint.each((connection) => {
        closing.push(connection.whenClosed());
        connection.drain();
      });
    }
    await Promise.all(closing);
    this.state = 'closed';
  }

  /** Closes every connection now; calls in flight fail with CANCELLED. */
  destroy(): void {
    this.state = 'closed';
    const error = new RpcError(Status.CANCELLED, 'the client was destroyed', { reason: 'client_destroyed' });
    for (const endpoint of this.endpoints) endpoint.each((connection) => connection.destroy(error));
  }

  private pickEndpoint(): Endpoint | null {
    const endpoints = this.endpoints;
    const count = endpoints.length;
    const first = this.nextEndpoint;
    this.nextEndpoint = (first + 1) % count;
    return endpoints[first] ?? null;
  }

  private unavailable(descriptor: MethodDescriptor): RpcError {
    return new RpcError(Status.UNAVAILABLE, `${descriptor.path}: no endpoint for ${this.target}`, { reason: 'unavailable' });
  }

  private describe(path: string): MethodDescriptor {
    let descriptor = this.methodsByPath.get(path);
    if (descriptor === undefined) {
      descriptor = { name: path.slice(path.lastIndexOf('/') + 1), path };
      this.methodsByPath.set(path, descriptor);
    }
    return descriptor;
  }
}

/** What a call needs for each of its attempts (the first, and retries of overload rejections). */
class Attempt {
  /** Retries made so far. */
  count = 0;
  constructor(
    readonly descriptor: MethodDescriptor,
    readonly request: unknown,
    readonly parent: RequestContext | null,
    readonly deadline: number,
    readonly business: number,
    readonly user: number,
    readonly traceId: string,
    readonly metadata: Metadata | null,
    readonly signal: AbortSignal | undefined,
  ) {}
}

/** Reused for every request: it is encoded synchronously, before anything else can touch it. */
const requestHeader: unknown[] = new Array(REQUEST_HEADER_FIELDS).fill(null);

function parentEnded(expired: boolean, descriptor: MethodDescriptor): RpcError {
  return expired
    ? new RpcError(Status.DEADLINE_EXCEEDED, `${descriptor.path}: the current request's deadline has passed`, { reason: 'deadline' })
    : new RpcError(Status.CANCELLED, `${descriptor.path}: the current request was cancelled`, { reason: 'cancelled' });
}

function watchSignal(signal: AbortSignal, call: PendingCall): void {
  const cancel = (): void =>
    call.connection.abandon(call, new RpcError(Status.CANCELLED, `${call.method.path}: cancelled by the caller`, { reason: 'cancelled' }));
  if (signal.aborted) return cancel();
  signal.addEventListener('abort', cancel, { once: true });
}

/** `host:port`, `tcp://host:port`, `[v6]:port`, or several of those separated by commas. */
export function parseTarget(target: string): { host: string; port: number }[] {
  const body = target.startsWith('tcp://') ? target.slice('tcp://'.length) : target;
  return body.split(',').map((part) => {
    const match = /^(?:\[([^\]]+)\]|([^:/\s]+)):(\d{1,5})$/.exec(part.trim());
    const port = match === null ? NaN : Number(match[3]);
    if (match === null || port < 1 || port > 65535) {
      throw new InvalidArgumentError(`target "${target}" is not an address: expected host:port or tcp://host:port`);
    }
    return { host: match[1] ?? match[2]!, port };
  });
}
