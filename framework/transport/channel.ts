import { isIP } from 'node:net';
import { debuglog } from 'node:util';
import { InvalidArgumentError, Reason, RemoteRpcError, RpcError, Status } from '../errors.ts';
import { balancerOption, type Balancer, type BalancerName } from '../balancer.ts';
import {
  AddressWatch,
  Resolver,
  defaultResolver,
  formatHostPort,
  parseAddress,
  type Endpoint,
  type WatchListener,
} from '../resolver/index.ts';
import { now, sharedWheel } from '../deadline.ts';
import { DEFAULT_TIMEOUT_MS, currentContext, newTraceId, userPriorityOfTrace, type Metadata } from '../context.ts';
import { booleanOption, integerOption, knownKeys, numberOption, optionNames } from '../options.ts';
import {
  ADMIT_ALL,
  BUSINESS_LEVELS,
  LOWEST_BUSINESS_PRIORITY,
  checkBusinessPriority,
  checkUserPriority,
  compoundLevel,
} from '../priority.ts';
import { RequestHeader, REQUEST_HEADER_FIELDS } from '../protocol/index.ts';
import type { MethodDescriptor } from '../service.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_STREAM_WINDOW_BYTES, MAX_STREAM_WINDOW_BYTES } from '../streams/inbox.ts';
import { ClientStream } from '../streams/client-stream.ts';
import { ClientCall } from './client-call.ts';
import { interceptClient, interceptorsOption, type ClientInterceptor } from '../interceptors.ts';
import { CallCounters, type ChannelStats } from './channel-stats.ts';
import { RetryBudget } from './retry-budget.ts';
import { decideRetry, type RetryScope } from './retry-rules.ts';
import { peerLimits } from './connection-limits.ts';
import { keepaliveOptions, type KeepaliveOptions } from './keepalive.ts';
import { Subchannel, type SubchannelOwner, type SubchannelSettings } from './subchannel.ts';
import { clientTlsOption, type ClientTlsOptions } from './tls.ts';
import { priorityKeyOption, signedMetadata } from './priority-auth.ts';

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
  /** Run around every call through this channel, in this order (see docs/interceptors.md). */
  interceptors?: readonly ClientInterceptor[];
  /**
   * Watch each server's health (a `Health/Watch` stream per endpoint, on one of its
   * connections) and leave NOT_SERVING endpoints out of the rotation while others serve.
   * Default false: a draining server's GOAWAY already takes it out; this is for the statuses a
   * server's code sets. Each watching client holds one open stream (a handler slot) on each server.
   */
  healthCheck?: boolean;
  /** Message bytes a server may send on a stream ahead of the caller's loop (the credit window). Default 128 KiB. */
  streamWindowBytes?: number;
  /**
   * Largest message of a server's stream, in bytes; a larger one ends its stream
   * (RESOURCE_EXHAUSTED, `message_too_large`; the server is told with CANCEL), the connection
   * stays. Default 1 MiB.
   */
  maxMessageBytes?: number;
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
  interceptors: true,
  healthCheck: true,
  streamWindowBytes: true,
  maxMessageBytes: true,
  keepaliveIntervalMs: true,
  keepaliveTimeoutMs: true,
  connectTimeoutMs: true,
});

import type { EndpointState } from './subchannel.ts';
export type { EndpointState };

/** What `Channel.endpoints()` shows of one subchannel. */
export interface EndpointInfo {
  address: string;
  state: EndpointState;
  inFlight: number;
  admissionLevel: number;
  priority: number;
  weight: number;
  /** False while the server's health says NOT_SERVING (only watched with `healthCheck`). */
  serving: boolean;
}

type ChannelState = 'open' | 'closing' | 'closed';

/**
 * A client's link to one service target: a subchannel per resolved address (its connections,
 * reconnects and reported admission level, see subchannel.ts), and the call path
 * (context inheritance, local admission, deadline, encode). Typed clients and untyped calls
 * both go through `call`.
 */
// Its calls hold it as their CallOwner (checked where they are made); no implements clause, because
// the declarations leave those members out.
export class Channel {
  readonly target: string;
  /** @internal Retries of overload rejections left, per business priority (`retryBudget.available(business)`). */
  readonly retryBudget: RetryBudget;
  /** Outcomes, retries: running totals read by `stats()`. */
  private readonly counters = new CallCounters();
  private readonly timeoutMs: number;
  private readonly businessPriority: number | undefined;
  private readonly userPriority: number | undefined;
  private readonly maxInFlightPerConnection: number;
  private readonly maxBufferedBytes: number;
  private readonly priorityKey: Buffer | undefined;
  private readonly streamWindowBytes: number;
  /** @internal Its interceptors: `call` runs them itself; typed clients put them around streams (client-streams.ts). */
  readonly interceptors: readonly ClientInterceptor[];
  /** The channel as the retry rules see it. */
  private readonly retryScope: RetryScope;
  /** What every subchannel of this channel is opened with. */
  private readonly subchannelSettings: SubchannelSettings;
  /** The channel as its subchannels see it: the few callbacks they need. */
  private readonly subchannelOwner: SubchannelOwner = {
    isOpen: () => this.state === 'open',
    subchannelChanged: () => this.subchannelChanged(),
    subchannelFailed: () => this.watch?.refresh(),
  };
  private readonly methodsByPath = new Map<string, MethodDescriptor>();
  private state: ChannelState = 'open';
  /** One subchannel per resolved address, by address; kept across re-resolution so healthy connections stay. */
  private readonly subchannels = new Map<string, Subchannel>();
  /** Subchannels with a ready connection, of the best SRV priority among those: what calls pick from. */
  private ready: Subchannel[] = [];
  private readonly balancer: Balancer;
  private readonly resolver: Resolver;
  private readonly parsedTarget: ReturnType<typeof parseAddress>;
  /** Resolves the target in the background; null for IP-literal targets and before the first call. */
  private watch: AddressWatch | null = null;
  /** Connecting starts with the first call (a client never used opens nothing). */
  private started = false;
  private resolved = false;
  private resolveError: RpcError | null = null;
  /** Calls waiting for a first ready subchannel (before the first resolution or connect). */
  private waiting: ClientCall[] = [];

  constructor(target: string, options: ChannelOptions = {}) {
    knownKeys('', options, CHANNEL_OPTIONS);
    this.target = target;
    const connections = integerOption('connectionsPerEndpoint', options.connectionsPerEndpoint, 1, 1, 64);
    this.timeoutMs = integerOption('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 1);
    this.businessPriority = checkBusinessPriority('businessPriority', options.businessPriority);
    this.userPriority = checkUserPriority('userPriority', options.userPriority);
    const limits = peerLimits(options);
    this.maxInFlightPerConnection = limits.maxInFlightPerConnection;
    this.maxBufferedBytes = limits.maxBufferedBytes;
    const connection = {
      maxFrameBytes: limits.maxFrameBytes,
      maxMessageBytes: integerOption('maxMessageBytes', options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 1),
      tls: clientTlsOption(options.tls),
      ...keepaliveOptions(options),
    };
    this.priorityKey = priorityKeyOption(options.priorityKey);
    const initialBackoffMs = integerOption('initialBackoffMs', options.initialBackoffMs, 100, 1);
    const maxBackoffMs = integerOption('maxBackoffMs', options.maxBackoffMs, 5000, initialBackoffMs);
    this.balancer = balancerOption('balancer', options.balancer);
    const admissionLevelTtlMs = integerOption('admissionLevelTtlMs', options.admissionLevelTtlMs, 1000, 1);
    const healthCheck = booleanOption('healthCheck', options.healthCheck, false);
    this.subchannelSettings = {
      connections,
      connection,
      initialBackoffMs,
      maxBackoffMs,
      admissionLevelTtlMs,
      healthCheck,
      priorityKey: this.priorityKey,
    };
    this.streamWindowBytes = integerOption(
      'streamWindowBytes',
      options.streamWindowBytes,
      DEFAULT_STREAM_WINDOW_BYTES,
      1,
      MAX_STREAM_WINDOW_BYTES,
    );
    this.retryBudget = new RetryBudget(
      integerOption('maxRetries', options.maxRetries, 3, 0, 10),
      numberOption('retryBudgetRatio', options.retryBudgetRatio, 0.1, 0, 1),
      10,
    );
    this.retryScope = {
      isOpen: () => this.state === 'open',
      budget: this.retryBudget,
      shedsEverywhere: (level, at) => this.shedsEverywhere(level, at),
    };
    if (options.resolver !== undefined && !(options.resolver instanceof Resolver)) {
      throw new InvalidArgumentError(`resolver must be a Resolver, got ${String(options.resolver)}`);
    }
    this.resolver = options.resolver ?? defaultResolver();
    this.parsedTarget = parseAddress(target);
    const parsed = this.parsedTarget;
    if (parsed.kind === 'hosts' && parsed.hosts.every(({ host }) => isIP(host) !== 0)) {
      this.updateEndpoints(parsed.hosts);
    }
    const interceptors = interceptorsOption<ClientInterceptor>('interceptors', options.interceptors);
    this.interceptors = interceptors;
    // Decided once: a channel without interceptors keeps the plain `call`, nothing added to its path.
    if (interceptors.length > 0) {
      const intercepted = interceptClient(interceptors, target, this.call.bind(this));
      this.call = (method, request, callOptions) =>
        intercepted(typeof method === 'string' ? this.describe(method) : method, request, callOptions);
    }
  }

  /**
   * Calls a method. Inside a request, the call inherits its deadline (what is left of it), its
   * priorities, trace id and metadata, and is cancelled with it.
   */
  call(method: MethodDescriptor | string, request: unknown, options?: CallOptions): Promise<unknown> {
    const descriptor = typeof method === 'string' ? this.describe(method) : method;
    const start = now();
    const call = this.prepare(descriptor, request, options, start);
    if (call instanceof RpcError) return this.failNow(call);
    this.launch(call, options, start);
    return call.promise;
  }

  /**
   * @internal Opens a stream of a streaming method (docs/streaming.md), past any interceptor
   * (typed clients run them: client-streams.ts), with the context inheritance,
   * local admission and deadline of a call. `request` is a server stream's request (undefined
   * for the others). The outcome is the stream's: its loop throws, its `reply` rejects.
   */
  openStream(descriptor: MethodDescriptor, request: unknown, options?: CallOptions): ClientStream {
    const stream = new ClientStream(descriptor.kind ?? 'unary', descriptor.path, this.streamWindowBytes);
    const start = now();
    const call = this.prepare(descriptor, request, options, start);
    if (call instanceof RpcError) {
      this.callFailed(call);
      stream.settle(call);
      stream.reply = Promise.reject(call);
    } else {
      call.stream = stream;
      stream.host = call;
      stream.reply = call.promise;
      this.launch(call, options, start);
    }
    // Whoever iterates sees the outcome; the reply of a server or bidirectional stream is not awaited.
    if (stream.kind !== 'client-stream') stream.reply.catch(noop);
    return stream;
  }

  /**
   * A call inheriting the current request's deadline (what is left of it), priorities, trace id
   * and metadata, or why it cannot be made.
   */
  private prepare(
    descriptor: MethodDescriptor,
    request: unknown,
    options: CallOptions | undefined,
    start: number,
  ): ClientCall | RpcError {
    const parent = currentContext() ?? null;
    // Outside a request, a call gets its own budget; inside one, it inherits what is left of the
    // request's deadline, which only an explicit per-call timeout can shorten.
    let deadline: number;
    if (parent === null) {
      deadline = start + (options?.timeoutMs ?? descriptor.timeoutMs ?? this.timeoutMs);
    } else {
      if (parent.cancelled) return parentEnded(parent.deadline <= start, descriptor);
      deadline = parent.deadline;
      const timeoutMs = options?.timeoutMs;
      if (timeoutMs !== undefined && start + timeoutMs < deadline) deadline = start + timeoutMs;
    }
    if (this.state !== 'open') return clientClosed(descriptor);
    const traceId = options?.traceId ?? parent?.traceId ?? newTraceId();
    const business =
      options?.businessPriority ??
      parent?.businessPriority ??
      descriptor.businessPriority ??
      this.businessPriority ??
      LOWEST_BUSINESS_PRIORITY;
    const user = options?.userPriority ?? parent?.userPriority ?? this.userPriority ?? userPriorityOfTrace(traceId);
    const metadata = options?.metadata ?? parent?.metadata ?? null;
    return new ClientCall({
      owner: this,
      method: descriptor,
      request,
      parent,
      deadline,
      timeoutMs: Math.max(1, Math.floor(deadline - start)),
      business,
      user,
      traceId,
      metadata,
    });
  }

  /** Sends the first attempt at `start`; the call never throws: whatever goes wrong is its outcome. */
  private launch(call: ClientCall, options: CallOptions | undefined, start: number): void {
    try {
      const signal = options?.signal;
      if (signal !== undefined) watchSignal(signal, call);
      this.send(call, start);
    } catch (error) {
      call.reject(RpcError.from(error));
    }
  }

  /** @internal The call got its answer: its business priority earns retries. */
  callSucceeded(call: ClientCall): void {
    this.counters.ok++;
    this.retryBudget.success(call.business);
  }

  /** @internal The call's outcome is `error`. */
  callFailed(error: RpcError): void {
    this.counters.failed(error, error instanceof RemoteRpcError);
  }

  private failNow(error: RpcError): Promise<never> {
    this.callFailed(error);
    return Promise.reject(error);
  }

  /** @internal An attempt failed: sent again (on another subchannel when there is one) if the retry rules (retry-rules.ts) say so. */
  attemptFailed(call: ClientCall, error: RpcError): void {
    // A stream the server started has sent or taken messages: sending it again would repeat them.
    if (call.stream?.started === true) return call.reject(error);
    const at = now();
    const decision = decideRetry(call, error, at, this.retryScope);
    if (decision !== 'retry') {
      if (decision === 'denied') this.counters.retriesDenied++;
      return call.reject(error);
    }
    call.retries++;
    this.counters.retries++;
    call.lastAddress = error instanceof RemoteRpcError ? error.peer : null;
    debug('%s: retrying (attempt %d) after %s', call.method.path, call.retries + 1, error.reason ?? error.code);
    this.send(call, at);
  }

  /**
   * True when every ready subchannel's reported level sheds calls of `level`: a retry would only be
   * shed locally, so it must not take a token from the budget (under a spike, rejected calls of a
   * low priority would otherwise spend it all, and the retries of the most important calls, which
   * another subchannel still admits, would find it empty).
   */
  private shedsEverywhere(level: number, at: number): boolean {
    return this.ready.length > 0 && this.admittingSubchannel(level, at, null) === null;
  }

  /** A ready subchannel other than `skip` whose reported level admits calls of `level`, or null. */
  private admittingSubchannel(level: number, at: number, skip: Subchannel | null): Subchannel | null {
    for (const subchannel of this.ready)
      if (subchannel !== skip && !subchannel.calleeLevel.sheds(level, at)) return subchannel;
    return null;
  }

  /** One attempt, at `start` (a `now()` reading): pick a subchannel, shed locally or send. Any failure here is the call's outcome. */
  private send(call: ClientCall, start: number): void {
    const level = compoundLevel(call.business, call.user);
    // A subchannel whose last reported level sheds this call is skipped (so is the one a retry just
    // failed on); the call fails locally (nothing sent) only when every ready subchannel sheds it.
    let subchannel = this.pickSubchannel();
    if (
      subchannel !== null &&
      (subchannel.calleeLevel.sheds(level, start) || subchannel.address === call.lastAddress)
    ) {
      subchannel = this.admittingSubchannel(level, start, subchannel) ?? subchannel;
    }
    if (subchannel === null) return this.waitForSubchannel(call);
    const { method } = call;
    if (subchannel.calleeLevel.sheds(level, start) && !subchannel.calleeLevel.probe(start)) {
      return call.reject(
        new RpcError(
          Status.RESOURCE_EXHAUSTED,
          `${method.path}: ${subchannel.address} is overloaded and admits up to level ${subchannel.calleeLevel.level}; this call's level is ${level}, so it was not sent`,
          { reason: Reason.LocalAdmission },
        ),
      );
    }
    const connection = subchannel.pick();
    if (connection === null) return call.reject(subchannel.unavailable());
    if (connection.load >= this.maxInFlightPerConnection || connection.writer.bufferedBytes > this.maxBufferedBytes) {
      return call.reject(
        new RpcError(
          Status.RESOURCE_EXHAUSTED,
          `${method.path}: too many calls waiting on the connection to ${subchannel.address}`,
          {
            reason: Reason.ClientBacklog,
          },
        ),
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
      header[RequestHeader.METADATA] = signedMetadata(
        this.priorityKey,
        call.metadata,
        call.business,
        call.user,
        call.traceId,
      );
    }
    try {
      connection.send(call, header);
    } catch (error) {
      call.reject(
        error instanceof RpcError
          ? error
          : new RpcError(Status.INVALID_ARGUMENT, `${method.path}: the request cannot be encoded`, {
              reason: Reason.BadRequest,
              cause: error,
            }),
      );
    }
  }

  /** Stops taking calls, lets those in flight finish, then closes the connections. */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.stopResolving();
    const closing: Promise<void>[] = [];
    for (const subchannel of this.subchannels.values()) {
      subchannel.stopWatching();
      subchannel.each((connection) => {
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
    const error = new RpcError(Status.CANCELLED, 'the client was destroyed', { reason: Reason.ClientDestroyed });
    this.stopResolving();
    for (const subchannel of this.subchannels.values()) {
      subchannel.stopWatching();
      subchannel.each((connection) => connection.destroy(error));
    }
  }

  /** Outcome counts since the channel was created, the retry budget, and the admission level the callee holds it to (for metrics). */
  stats(): ChannelStats {
    const at = now();
    let admissionLevel = ADMIT_ALL;
    for (const subchannel of this.subchannels.values())
      admissionLevel = Math.min(admissionLevel, subchannel.calleeLevel.current(at));
    const retryTokens: number[] = [];
    for (let business = 0; business < BUSINESS_LEVELS; business++)
      retryTokens.push(this.retryBudget.available(business));
    return {
      target: this.target,
      ok: this.counters.ok,
      failed: this.counters.failedCalls(),
      retries: this.counters.retries,
      retriesDenied: this.counters.retriesDenied,
      retryTokens,
      maxRetryTokens: this.retryBudget.maxTokens,
      admissionLevel,
    };
  }

  /** A snapshot of the subchannels (one per resolved endpoint) and their state, for metrics and tests. */
  endpoints(): EndpointInfo[] {
    return [...this.subchannels.values()].map((subchannel) => ({
      address: subchannel.address,
      state: subchannel.state,
      inFlight: subchannel.inFlight,
      admissionLevel: subchannel.calleeLevel.level,
      priority: subchannel.priority,
      weight: subchannel.weight,
      serving: subchannel.serving,
    }));
  }

  /**
   * A subchannel's connection became ready or went away, or its health changed: recompute what
   * calls pick from. With `healthCheck`, NOT_SERVING subchannels are left out while another is
   * serving; when none is, calls still go to them (a server that may answer beats none).
   */
  private subchannelChanged(): void {
    let serving = false;
    for (const subchannel of this.subchannels.values())
      if (subchannel.readyConnections > 0 && subchannel.serving) serving = true;
    const candidate = (subchannel: Subchannel): boolean =>
      subchannel.readyConnections > 0 && (subchannel.serving || !serving);
    let best = Infinity;
    for (const subchannel of this.subchannels.values()) {
      if (candidate(subchannel) && subchannel.priority < best) best = subchannel.priority;
    }
    const ready: Subchannel[] = [];
    for (const subchannel of this.subchannels.values()) {
      if (candidate(subchannel) && subchannel.priority === best) ready.push(subchannel);
    }
    this.ready = ready;
    this.wakeWaiters();
  }

  private pickSubchannel(): Subchannel | null {
    const ready = this.ready;
    if (ready.length === 0) return null;
    return ready.length === 1 ? ready[0]! : this.balancer.pick(ready);
  }

  /**
   * No subchannel is ready: before the first resolution or connect, the call waits (within its
   * deadline, which the wheel watches); when every subchannel is down, it fails at once with
   * UNAVAILABLE naming them.
   */
  private waitForSubchannel(call: ClientCall): void {
    this.start();
    let connecting = false;
    for (const subchannel of this.subchannels.values()) {
      // A subchannel between connections (closed idle, not backing off) connects now rather than failing the call.
      subchannel.connect();
      if (subchannel.connecting) connecting = true;
    }
    if (this.resolved && !connecting) return call.reject(this.unavailable(call.method));
    sharedWheel.add(call, call.deadline);
    this.waiting.push(call);
  }

  /** Starts resolving (names) and connecting: on the first call. */
  private start(): void {
    if (this.started || this.state !== 'open') return;
    this.started = true;
    if (this.subchannels.size > 0) {
      for (const subchannel of this.subchannels.values()) subchannel.connect();
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

  /** A new resolution: keep the subchannels of the endpoints still in it (and their connections), add new ones, retire the rest. */
  private updateEndpoints(resolved: readonly Endpoint[]): void {
    if (this.state !== 'open') return;
    this.resolved = true;
    if (resolved.length === 0) {
      this.resolveError = new RpcError(Status.UNAVAILABLE, `${this.target} resolved to no endpoints`, {
        reason: Reason.NoEndpoints,
      });
      this.wakeWaiters();
      return;
    }
    this.resolveError = null;
    const seen = new Set<string>();
    for (const { host, port, priority, weight } of resolved) {
      const address = formatHostPort(host, port);
      seen.add(address);
      let subchannel = this.subchannels.get(address);
      if (subchannel === undefined) {
        subchannel = new Subchannel({ host, port, settings: this.subchannelSettings, owner: this.subchannelOwner });
        this.subchannels.set(address, subchannel);
        if (this.started) subchannel.connect();
      }
      subchannel.priority = priority ?? 0;
      subchannel.weight = weight ?? 1;
    }
    for (const [address, subchannel] of this.subchannels) {
      if (!seen.has(address)) {
        this.subchannels.delete(address);
        subchannel.retire();
      }
    }
    this.subchannelChanged();
  }

  private wakeWaiters(): void {
    if (this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const call of waiting) {
      if (call.settled) continue;
      sharedWheel.remove(call);
      if (this.state === 'open') this.send(call, now());
      else call.reject(clientClosed(call.method));
    }
  }

  private stopResolving(): void {
    this.watch?.close();
    this.watch = null;
    for (const subchannel of this.subchannels.values()) subchannel.stopReconnecting();
    this.wakeWaiters();
  }

  private unavailable(descriptor: MethodDescriptor): RpcError {
    const failures = [...this.subchannels.values()].map((subchannel) => subchannel.describeFailure());
    const why =
      failures.length > 0
        ? `every endpoint is down: ${failures.join('; ')}`
        : (this.resolveError?.message ?? 'no endpoints');
    return new RpcError(Status.UNAVAILABLE, `${descriptor.path}: cannot reach ${this.target}: ${why}`, {
      reason: Reason.Unavailable,
    });
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
    ? new RpcError(Status.DEADLINE_EXCEEDED, `${descriptor.path}: the current request's deadline has passed`, {
        reason: Reason.Deadline,
      })
    : new RpcError(Status.CANCELLED, `${descriptor.path}: the current request was cancelled`, {
        reason: Reason.Cancelled,
      });
}

function clientClosed(descriptor: MethodDescriptor): RpcError {
  return new RpcError(Status.UNAVAILABLE, `${descriptor.path}: the client is closed`, { reason: Reason.ClientClosed });
}

function watchSignal(signal: AbortSignal, call: ClientCall): void {
  const cancel = (): void =>
    call.cancel(
      new RpcError(Status.CANCELLED, `${call.method.path}: cancelled by the caller`, { reason: Reason.Cancelled }),
    );
  if (signal.aborted) return cancel();
  signal.addEventListener('abort', cancel, { once: true });
}

function noop(): void {}
