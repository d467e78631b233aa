import { isIP } from 'node:net';
import { debuglog } from 'node:util';
import { InvalidArgumentError, RpcError, Status } from '../errors.ts';
import { balancerOption, type BalancedEndpoint, type Balancer, type BalancerName } from '../balancer.ts';
import { AddressWatch, Resolver, defaultResolver, parseAddress, type Endpoint as ResolvedEndpoint, type WatchListener } from '../resolver/index.ts';
import { now, sharedWheel } from '../deadline.ts';
import { DEFAULT_TIMEOUT_MS, currentContext, newTraceId, userPriorityOfTrace, type Metadata } from '../context.ts';
import { integerOption, knownKeys, numberOption, optionNames } from '../options.ts';
import { CallerLevel } from '../admission/caller-level.ts';
import { RetryBudget } from '../admission/retry-budget.ts';
import { LOWEST_BUSINESS_PRIORITY, checkBusinessPriority, checkUserPriority, compoundLevel } from '../priority.ts';
import { RequestHeader, REQUEST_HEADER_FIELDS } from '../protocol/index.ts';
import type { MethodDescriptor } from '../service.ts';
import { ClientConnection, ClientConnectionState, RemoteRpcError, type ConnectionEvents } from './client-connection.ts';
import { ClientCall, type CallOwner } from './client-call.ts';
import { peerLimits } from './connection-limits.ts';
import { keepaliveOptions, type ClientConnectionOptions, type KeepaliveOptions } from './keepalive.ts';
import { clientTlsOption, type ClientTlsOptions } from './tls.ts';
import { PRIORITY_SIGNATURE_KEY, priorityKeyOption, signPriority } from './priority-auth.ts';

const debug = debuglog('corpc:client');

export interface ChannelOptions extends KeepaliveOptions {
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
  /** Resolves the target's names. Default: one Resolver shared by the whole process. */
  resolver?: Resolver;
  /** How calls are spread over endpoints: "p2c" (power of two choices on calls in flight, the default), "round-robin", or your own. */
  balancer?: BalancerName | Balancer;
  /** Connect over TLS, verifying the server against `tls.ca`; `cert` and `key` for mutual TLS. */
  tls?: ClientTlsOptions;
  /** The key shared with servers that only trust signed priorities (ServerOptions.priorityKey): every call's priorities are signed with it. */
  priorityKey?: string | Buffer;
  /** A server's admission level that no answer refreshed for this long is forgotten. Default 1000 ms. */
  admissionLevelTtlMs?: number;
  /** Retries of a call a server rejected as overloaded (on another endpoint, within the deadline). Default 3. */
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

const CHANNEL_OPTIONS = optionNames<ChannelOptions>({
  connectionsPerEndpoint: true,
  timeoutMs: true,
  businessPriority: true,
  userPriority: true,
  maxFrameBytes: true,
  maxInFlightPerConnection: true,
  maxBufferedBytesPerConnection: true,
  initialBackoffMs: true,
  maxBackoffMs: true,
  resolver: true,
  balancer: true,
  tls: true,
  priorityKey: true,
  admissionLevelTtlMs: true,
  maxRetries: true,
  retryBudgetRatio: true,
  keepaliveIntervalMs: true,
  keepaliveTimeoutMs: true,
  connectTimeoutMs: true,
});

/** One server address and the connections to it. */
class Endpoint implements ConnectionEvents, BalancedEndpoint {
  readonly address: string;
  /** The admission level this server last reported (compound B*128+U), expiring if not refreshed. */
  readonly admission: CallerLevel;
  /** SRV weight and priority (1 and 0 when the address gave none). */
  weight = 1;
  priority = 0;
  /** Connections that finished their handshake and take calls. */
  readyConnections = 0;
  /** No longer in the resolved set: its connections drain and it is not reconnected. */
  retired = false;
  private readonly connections: (ClientConnection | null)[];
  private failures = 0;
  private retryAt = 0;
  private lastError: RpcError | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly channel: Channel,
  ) {
    this.address = formatAddress(host, port);
    this.connections = new Array<ClientConnection | null>(channel.connectionsPerEndpoint).fill(null);
    this.admission = new CallerLevel(channel.admissionLevelTtlMs);
  }

  /** Calls in flight on its connections. */
  get inFlight(): number {
    let total = 0;
    const connections = this.connections;
    for (let i = 0; i < connections.length; i++) total += connections[i]?.load ?? 0;
    return total;
  }

  /** True while a connect is under way. */
  get connecting(): boolean {
    return this.connections.some((connection) => connection?.state === ClientConnectionState.Connecting);
  }

  /** Opens connections in the free slots, unless backing off. */
  connect(): void {
    if (now() >= this.retryAt) this.openConnections();
  }

  private openConnections(): void {
    if (this.retired) return;
    const connections = this.connections;
    for (let i = 0; i < connections.length; i++) {
      const connection = connections[i];
      if (connection === null || !connection!.usable) this.openSlot(i);
    }
  }

  private openSlot(slot: number): ClientConnection {
    return (this.connections[slot] = new ClientConnection(this.host, this.port, this.channel.connectionOptions, this));
  }

  /** The least busy usable connection, opening one where a slot is free; null while backing off. */
  pick(): ClientConnection | null {
    let best: ClientConnection | null = null;
    const connections = this.connections;
    for (let i = 0; i < connections.length; i++) {
      let connection = connections[i]!;
      if (connection === null || !connection.usable) {
        if (now() < this.retryAt) continue;
        connection = this.openSlot(i);
      }
      if (best === null || connection.load < best.load) best = connection;
    }
    return best;
  }

  /** Why the endpoint cannot take calls now. */
  unavailable(): RpcError {
    return new RpcError(Status.UNAVAILABLE, this.describeFailure(), { reason: 'unavailable' });
  }

  describeFailure(): string {
    const wait = Math.max(0, Math.ceil(this.retryAt - now()));
    const cause = this.lastError?.message ?? `no connection to ${this.address}`;
    return `${cause} (next attempt in ${wait} ms)`;
  }

  /** For `Channel.endpoints()`. */
  get state(): EndpointState {
    if (this.readyConnections > 0) return 'ready';
    if (this.connecting) return 'connecting';
    return now() < this.retryAt ? 'backoff' : 'idle';
  }

  get admissionLevel(): number {
    return this.admission.level;
  }

  onAdmissionLevel(level: number, time: number): void {
    this.admission.update(level, time);
  }

  onReady(): void {
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = null;
    this.recount();
  }

  onClosed(connection: ClientConnection, error: RpcError | null): void {
    const index = this.connections.indexOf(connection);
    if (index === -1) return;
    this.connections[index] = null;
    if (error !== null) {
      // A connect that failed: back off (exponentially, with jitter) before trying this address again.
      this.lastError = error;
      const base = Math.min(this.channel.maxBackoffMs, this.channel.initialBackoffMs * 2 ** this.failures);
      this.failures++;
      this.retryAt = now() + base * (0.8 + Math.random() * 0.4);
      debug('%s unreachable (%s); retrying in %d ms', this.address, error.message, Math.round(this.retryAt - now()));
    }
    this.recount();
    if (this.retired || !this.channel.isOpen) return;
    // Reconnect in the background (calls go to the other endpoints meanwhile), and ask DNS
    // again: the address may have moved.
    this.scheduleReconnect();
    if (error !== null) this.channel.endpointFailed();
  }

  /** Leaves the set: calls in flight finish, nothing new is sent, no reconnects. */
  retire(): void {
    this.retired = true;
    this.stopReconnecting();
    this.each((connection) => connection.drain());
  }

  stopReconnecting(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  /** Connections, for drain and destroy. */
  each(visit: (connection: ClientConnection) => void): void {
    for (const connection of this.connections) if (connection !== null) visit(connection);
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== null) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      // Not connect(): a timer may fire a fraction of a millisecond before retryAt.
      if (this.channel.isOpen) this.openConnections();
    }, Math.max(0, Math.ceil(this.retryAt - now())));
    this.reconnectTimer.unref();
  }

  private recount(): void {
    let ready = 0;
    for (const connection of this.connections) if (connection?.state === ClientConnectionState.Ready) ready++;
    this.readyConnections = ready;
    this.channel.endpointChanged();
  }
}

export type EndpointState = 'ready' | 'connecting' | 'backoff' | 'idle';

/** What `Channel.endpoints()` shows of one endpoint. */
export interface EndpointInfo {
  address: string;
  state: EndpointState;
  inFlight: number;
  admissionLevel: number;
  priority: number;
  weight: number;
}

type ChannelState = 'open' | 'closing' | 'closed';

/**
 * A client's link to one service target: its endpoints, their connections, and the call path
 * (context inheritance, local admission, deadline, encode). Typed clients and untyped calls
 * both go through `call`.
 */
export class Channel implements CallOwner {
  readonly target: string;
  readonly connectionsPerEndpoint: number;
  readonly maxFrameBytes: number;
  readonly connectionOptions: ClientConnectionOptions;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly admissionLevelTtlMs: number;
  /** Retries of overload rejections left, per business priority (`retryBudget.available(business)`). */
  readonly retryBudget: RetryBudget;
  private readonly timeoutMs: number;
  private readonly businessPriority: number | undefined;
  private readonly userPriority: number | undefined;
  private readonly maxInFlightPerConnection: number;
  private readonly maxBufferedBytes: number;
  private readonly priorityKey: Buffer | undefined;
  private readonly methodsByPath = new Map<string, MethodDescriptor>();
  private state: ChannelState = 'open';
  /** The resolved endpoints, by address; kept across re-resolution so healthy connections stay. */
  private readonly members = new Map<string, Endpoint>();
  /** Endpoints with a ready connection, of the best SRV priority among those: what calls pick from. */
  private ready: Endpoint[] = [];
  private readonly balancer: Balancer;
  private readonly resolver: Resolver;
  private readonly parsedTarget: ReturnType<typeof parseAddress>;
  /** Resolves the target in the background; null for IP-literal targets and before the first call. */
  private watch: AddressWatch | null = null;
  /** Connecting starts with the first call (a client never used opens nothing). */
  private started = false;
  private resolved = false;
  private resolveError: RpcError | null = null;
  /** Calls waiting for an endpoint to become ready (first resolution, first connect). */
  /** Calls waiting for a first endpoint (before the first resolution or connect). */
  private waiting: ClientCall[] = [];

  constructor(target: string, options: ChannelOptions = {}) {
    knownKeys('', options, CHANNEL_OPTIONS);
    this.target = target;
    this.connectionsPerEndpoint = integerOption('connectionsPerEndpoint', options.connectionsPerEndpoint, 1, 1, 64);
    this.timeoutMs = integerOption('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 1);
    this.businessPriority = checkBusinessPriority('businessPriority', options.businessPriority);
    this.userPriority = checkUserPriority('userPriority', options.userPriority);
    ({ maxFrameBytes: this.maxFrameBytes, maxInFlightPerConnection: this.maxInFlightPerConnection, maxBufferedBytes: this.maxBufferedBytes } =
      peerLimits(options));
    this.connectionOptions = { maxFrameBytes: this.maxFrameBytes, tls: clientTlsOption(options.tls), ...keepaliveOptions(options) };
    this.priorityKey = priorityKeyOption(options.priorityKey);
    this.initialBackoffMs = integerOption('initialBackoffMs', options.initialBackoffMs, 100, 1);
    this.maxBackoffMs = integerOption('maxBackoffMs', options.maxBackoffMs, 5000, this.initialBackoffMs);
    this.balancer = balancerOption('balancer', options.balancer);
    this.admissionLevelTtlMs = integerOption('admissionLevelTtlMs', options.admissionLevelTtlMs, 1000, 1);
    this.retryBudget = new RetryBudget(
      integerOption('maxRetries', options.maxRetries, 3, 0, 10),
      numberOption('retryBudgetRatio', options.retryBudgetRatio, 0.1, 0, 1),
      10,
    );
    if (options.resolver !== undefined && !(options.resolver instanceof Resolver)) {
      throw new InvalidArgumentError(`resolver must be a Resolver, got ${String(options.resolver)}`);
    }
    this.resolver = options.resolver ?? defaultResolver();
    this.parsedTarget = parseAddress(target);
    const parsed = this.parsedTarget;
    if (parsed.kind === 'hosts' && parsed.hosts.every(({ host }) => isIP(host) !== 0)) {
      this.updateEndpoints(parsed.hosts);
    }
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
    const call = new ClientCall(this, descriptor, request, parent, deadline, Math.max(1, Math.floor(deadline - start)), business, user, traceId, metadata);
    try {
      const signal = options?.signal;
      if (signal !== undefined) watchSignal(signal, call);
      this.send(call, start);
    } catch (error) {
      // A call never throws: whatever went wrong is its outcome.
      call.reject(RpcError.from(error));
    }
    return call.promise;
  }

  /** @internal The call got its answer: its business priority earns retries. */
  callSucceeded(call: ClientCall): void {
    this.retryBudget.success(call.business);
  }

  /**
   * @internal An attempt failed. Retried, on another endpoint when there is one, within the
   * deadline and at most `maxRetries` times: a request the server never started (it was draining);
   * under the retry budget, an overload rejection that a server decided (never a local one), and
   * a dropped connection for an idempotent method — but not when every endpoint's level sheds
   * the call: then the callee's own answer is the outcome.
   */
  attemptFailed(call: ClientCall, error: RpcError): void {
    const at = now();
    const retry =
      call.retries < this.retryBudget.maxRetries &&
      call.deadline - at >= 1 &&
      this.state === 'open' &&
      call.parent?.cancelled !== true &&
      (isNeverStarted(error) ||
        (retryableUnderBudget(error, call.method) && !this.shedEverywhere(compoundLevel(call.business, call.user), at) && this.retryBudget.trySpend(call.business)));
    if (!retry) return call.reject(error);
    call.retries++;
    call.lastAddress = error instanceof RemoteRpcError ? error.peer : null;
    debug('%s: retrying (attempt %d) after %s', call.method.path, call.retries + 1, error.reason ?? error.code);
    this.send(call, at);
  }

  /**
   * True when every ready endpoint's reported level sheds calls of `level`: a retry would only be
   * shed locally, so it must not take a token from the budget (under a spike, rejected calls of a
   * low priority would otherwise spend it all, and the retries of the most important calls, which
   * another endpoint still admits, would find it empty).
   */
  private shedEverywhere(level: number, at: number): boolean {
    return this.ready.length > 0 && this.admittingEndpoint(level, at, null) === null;
  }

  /** A ready endpoint other than `skip` whose reported level admits calls of `level`, or null. */
  private admittingEndpoint(level: number, at: number, skip: Endpoint | null): Endpoint | null {
    for (const endpoint of this.ready) if (endpoint !== skip && !endpoint.admission.sheds(level, at)) return endpoint;
    return null;
  }

  /** One attempt, at `start` (a `now()` reading): pick an endpoint, shed locally or send. Any failure here is the call's outcome. */
  private send(call: ClientCall, start: number): void {
    const level = compoundLevel(call.business, call.user);
    // An endpoint whose last reported level sheds this call is skipped (so is the one a retry just
    // failed on); the call fails locally (nothing sent) only when every ready endpoint sheds it.
    let endpoint = this.pickEndpoint();
    if (endpoint !== null && (endpoint.admission.sheds(level, start) || endpoint.address === call.lastAddress)) {
      endpoint = this.admittingEndpoint(level, start, endpoint) ?? endpoint;
    }
    if (endpoint === null) return this.waitForEndpoint(call);
    const { method } = call;
    if (endpoint.admission.sheds(level, start) && !endpoint.admission.probe(start)) {
      return call.reject(
        new RpcError(
          Status.RESOURCE_EXHAUSTED,
          `${method.path}: ${endpoint.address} is overloaded and admits up to level ${endpoint.admission.level}; this call's level is ${level}, so it was not sent`,
          { reason: 'local_admission' },
        ),
      );
    }
    const connection = endpoint.pick();
    if (connection === null) return call.reject(endpoint.unavailable());
    if (connection.load >= this.maxInFlightPerConnection || connection.writer.bufferedBytes > this.maxBufferedBytes) {
      return call.reject(
        new RpcError(Status.RESOURCE_EXHAUSTED, `${method.path}: too many calls waiting on the connection to ${endpoint.address}`, {
          reason: 'client_backlog',
        }),
      );
    }
    const header = requestHeader;
    header[RequestHeader.METHOD] = method.path;
    header[RequestHeader.DEADLINE_MS] = Math.max(1, Math.floor(call.deadline - start));
    header[RequestHeader.BUSINESS] = call.business;
    header[RequestHeader.USER] = call.user;
    header[RequestHeader.TRACE_ID] = call.traceId;
    header[RequestHeader.METADATA] = call.metadata;
    if (this.priorityKey !== undefined) {
      header[RequestHeader.METADATA] = { ...call.metadata, [PRIORITY_SIGNATURE_KEY]: signPriority(this.priorityKey, call.business, call.user, call.traceId) };
    }
    try {
      connection.send(call, header);
    } catch (error) {
      call.reject(new RpcError(Status.INVALID_ARGUMENT, `${method.path}: the request cannot be encoded`, { cause: error }));
    }
  }

  /** Stops taking calls, lets those in flight finish, then closes the connections. */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.stopResolving();
    const closing: Promise<void>[] = [];
    for (const endpoint of this.members.values()) {
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
    this.stopResolving();
    for (const endpoint of this.members.values()) endpoint.each((connection) => connection.destroy(error));
  }

  /** A snapshot of the endpoints and their state, for metrics and tests. */
  endpoints(): EndpointInfo[] {
    return [...this.members.values()].map((endpoint) => ({
      address: endpoint.address,
      state: endpoint.state,
      inFlight: endpoint.inFlight,
      admissionLevel: endpoint.admissionLevel,
      priority: endpoint.priority,
      weight: endpoint.weight,
    }));
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** An endpoint's connection became ready or went away: recompute what calls pick from. */
  endpointChanged(): void {
    let best = Infinity;
    for (const endpoint of this.members.values()) {
      if (endpoint.readyConnections > 0 && endpoint.priority < best) best = endpoint.priority;
    }
    const ready: Endpoint[] = [];
    for (const endpoint of this.members.values()) {
      if (endpoint.readyConnections > 0 && endpoint.priority === best) ready.push(endpoint);
    }
    this.ready = ready;
    this.wakeWaiters();
  }

  /** A connect failed: the name may point elsewhere now. */
  endpointFailed(): void {
    this.watch?.refresh();
  }

  private pickEndpoint(): Endpoint | null {
    const ready = this.ready;
    if (ready.length === 0) return null;
    return ready.length === 1 ? ready[0]! : this.balancer.pick(ready);
  }

  /**
   * No endpoint is ready: before the first resolution or connect, the call waits (within its
   * deadline, which the wheel watches); when every endpoint is down, it fails at once with
   * UNAVAILABLE naming them.
   */
  private waitForEndpoint(call: ClientCall): void {
    this.start();
    let connecting = false;
    for (const endpoint of this.members.values()) {
      // An endpoint between connections (closed idle, not backing off) connects now rather than failing the call.
      endpoint.connect();
      if (endpoint.connecting) connecting = true;
    }
    if (this.resolved && !connecting) return call.reject(this.unavailable(call.method));
    sharedWheel.add(call, call.deadline);
    this.waiting.push(call);
  }

  /** Starts resolving (names) and connecting: on the first call. */
  private start(): void {
    if (this.started || this.state !== 'open') return;
    this.started = true;
    if (this.members.size > 0) {
      for (const endpoint of this.members.values()) endpoint.connect();
      return;
    }
    const listener: WatchListener = {
      onEndpoints: (endpoints) => this.updateEndpoints(endpoints),
      onResolveError: (error) => {
        this.resolved = true;
        this.resolveError = error;
        debug('%s: %s', this.target, error.message);
        this.wakeWaiters();
      },
    };
    this.watch = new AddressWatch(this.resolver, this.parsedTarget, listener);
  }

  /** A new resolution: keep the endpoints still in it (and their connections), add new ones, retire the rest. */
  private updateEndpoints(resolved: readonly ResolvedEndpoint[]): void {
    if (this.state !== 'open') return;
    this.resolved = true;
    if (resolved.length === 0) {
      this.resolveError = new RpcError(Status.UNAVAILABLE, `${this.target} resolved to no endpoints`, { reason: 'no_endpoints' });
      this.wakeWaiters();
      return;
    }
    this.resolveError = null;
    const seen = new Set<string>();
    for (const { host, port, priority, weight } of resolved) {
      const address = formatAddress(host, port);
      seen.add(address);
      let endpoint = this.members.get(address);
      if (endpoint === undefined) {
        endpoint = new Endpoint(host, port, this);
        this.members.set(address, endpoint);
        if (this.started) endpoint.connect();
      }
      endpoint.priority = priority ?? 0;
      endpoint.weight = weight ?? 1;
    }
    for (const [address, endpoint] of this.members) {
      if (!seen.has(address)) {
        this.members.delete(address);
        endpoint.retire();
      }
    }
    this.endpointChanged();
  }

  private wakeWaiters(): void {
    if (this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const call of waiting) {
      if (call.settled) continue;
      sharedWheel.remove(call);
      if (this.state === 'open') this.send(call, now());
      else call.reject(new RpcError(Status.UNAVAILABLE, `${call.method.path}: the client is closed`, { reason: 'client_closed' }));
    }
  }

  private stopResolving(): void {
    this.watch?.close();
    this.watch = null;
    for (const endpoint of this.members.values()) endpoint.stopReconnecting();
    this.wakeWaiters();
  }

  private unavailable(descriptor: MethodDescriptor): RpcError {
    const failures = [...this.members.values()].map((endpoint) => endpoint.describeFailure());
    const why =
      failures.length > 0
        ? `every endpoint is down: ${failures.join('; ')}`
        : (this.resolveError?.message ?? 'no endpoints');
    return new RpcError(Status.UNAVAILABLE, `${descriptor.path}: cannot reach ${this.target}: ${why}`, { reason: 'unavailable' });
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

/** Reused for every request: it is encoded synchronously, before anything else can touch it. */
const requestHeader: unknown[] = new Array(REQUEST_HEADER_FIELDS).fill(null);

function parentEnded(expired: boolean, descriptor: MethodDescriptor): RpcError {
  return expired
    ? new RpcError(Status.DEADLINE_EXCEEDED, `${descriptor.path}: the current request's deadline has passed`, { reason: 'deadline' })
    : new RpcError(Status.CANCELLED, `${descriptor.path}: the current request was cancelled`, { reason: 'cancelled' });
}

function watchSignal(signal: AbortSignal, call: ClientCall): void {
  const cancel = (): void =>
    call.cancel(new RpcError(Status.CANCELLED, `${call.method.path}: cancelled by the caller`, { reason: 'cancelled' }));
  if (signal.aborted) return cancel();
  signal.addEventListener('abort', cancel, { once: true });
}

/** A request the server answered without starting it (it was draining): always safe to send again. */
function isNeverStarted(error: RpcError): boolean {
  return error instanceof RemoteRpcError && error.reason === 'draining';
}

/** Failures a retry may fix, spending the retry budget. */
function retryableUnderBudget(error: RpcError, method: MethodDescriptor): boolean {
  if (error instanceof RemoteRpcError) return error.status === Status.RESOURCE_EXHAUSTED;
  // A dropped connection: the request may or may not have run, so only an idempotent one is sent again.
  return error.status === Status.UNAVAILABLE && method.idempotent === true && error.reason !== 'local_admission';
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
