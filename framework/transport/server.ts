import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { debuglog } from 'node:util';
import fastq from 'fastq';
import { Reason, RpcError, Status } from '../errors.ts';
import { now } from '../deadline.ts';
import { booleanOption, integerOption, knownKeys, optionNames } from '../options.ts';
import { compoundLevel } from '../priority.ts';
import { AdmissionController, type AdmissionOptions } from '../admission/controller.ts';
import { EntryPriorities, type EntryOptions } from '../admission/entry-priorities.ts';
import {
  ANSWER_FIXED_BYTES,
  FRAME_BASE_BYTES,
  REQUEST_FIXED_BYTES,
  RequestHeaderReader,
  packedError,
  unpackAt,
} from '../protocol/index.ts';
import type { MethodDescriptor, ServiceDescriptor, ServiceHandlers } from '../service.ts';
import { interceptServer, interceptorsOption, type ServerInterceptor } from '../interceptors.ts';
import { Health, HealthService, healthHandlers } from '../health.ts';
import { ReflectionService, reflectionHandlers } from '../reflection.ts';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_STREAM_WINDOW_BYTES,
  MAX_STREAM_WINDOW_BYTES,
  messageTooLarge,
} from '../streams/inbox.ts';
import { ServerStream } from '../streams/server-stream.ts';
import type { HandlerObserver } from './handler-observer.ts';
import { ServerCall, type MethodEntry } from './server-call.ts';
import { MethodTable } from './method-table.ts';
import { ConnectionState, ServerConnection } from './server-connection.ts';
import {
  connectionLimits,
  peerLimits,
  type ConnectionLimitOptions,
  type ConnectionLimits,
} from './connection-limits.ts';
import { createListener, serverTlsOption, type ServerTlsOptions } from './tls.ts';
import { DeferredQueue } from './loop-turn.ts';
import { PriorityGuard, priorityKeyOption } from './priority-auth.ts';

const debug = debuglog('corpc:server');
/** How long a draining server keeps answering 'draining' on an idle connection its client has not closed. */
const GOAWAY_LINGER_MS = 1000;

export interface ServerOptions extends ConnectionLimitOptions {
  /** Largest frame accepted, in bytes. Default 4 MiB. */
  maxFrameBytes?: number;
  /** Requests one connection may have unanswered; more are answered RESOURCE_EXHAUSTED. Default 4096. */
  maxInFlightPerConnection?: number;
  /** Handlers running at once: the worker's "number of coroutines". Default 1024. */
  concurrency?: number;
  /** Hard ceiling on requests waiting for a handler slot (memory safety). Default 10000. */
  maxQueueLength?: number;
  /** Answer bytes a connection may have waiting before its reads pause. Default 8 MiB. */
  maxBufferedBytesPerConnection?: number;
  /** How long `close()` lets in-flight handlers finish before cutting connections. Default 10 s. */
  closeGraceMs?: number;
  /** Serve over TLS (`node:tls`); with `requestCert` and `ca`, clients must present a certificate (mutual TLS). */
  tls?: ServerTlsOptions;
  /**
   * A key shared with trusted callers. When set, a request's business and user priorities count
   * only if it carries a valid priority signature made with this key (see ChannelOptions.priorityKey);
   * any other request is served at the lowest priority. Default: priorities are trusted.
   */
  priorityKey?: string | Buffer;
  /** Overload control: the policy (default `"dagor"`), its parameters, dry-run. See docs/overload-control.md. */
  admission?: AdmissionOptions;
  /**
   * How entry services assign priorities (services marked `entry`, or all with `entry.all`):
   * the shared secret for user priorities, the metadata key of the user id, the business table.
   */
  entry?: EntryOptions;
  /** Run around every request that reaches a handler of this server, in this order, before the service's own (see docs/interceptors.md). */
  interceptors?: readonly ServerInterceptor[];
  /** Serve the reflection service (`corpc list`, `corpc call`): the services, methods and message schemas. Default false. */
  reflection?: boolean;
  /** Streams one connection may have open; more are answered RESOURCE_EXHAUSTED (`too_many_streams`). Default 100. */
  maxStreamsPerConnection?: number;
  /** Largest message of a client's stream, in bytes; a larger one ends its stream (RESOURCE_EXHAUSTED, `message_too_large`). Default 1 MiB. */
  maxMessageBytes?: number;
  /** Message bytes a client may send on a stream before the handler has read them (the credit window). Default 128 KiB. */
  streamWindowBytes?: number;
}

/** What `addService` takes beside the handlers. */
export interface ServiceOptions {
  /** Run around the requests of this service only, after the server's interceptors. */
  interceptors?: readonly ServerInterceptor[];
  /** @internal For each method, what is told of each run of its handler (the runtime's metrics). */
  observe?: (method: MethodDescriptor) => HandlerObserver;
}

export interface ListenOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

const SERVER_OPTIONS = optionNames<ServerOptions>({
  maxFrameBytes: true,
  maxInFlightPerConnection: true,
  concurrency: true,
  maxQueueLength: true,
  maxBufferedBytesPerConnection: true,
  closeGraceMs: true,
  tls: true,
  priorityKey: true,
  admission: true,
  entry: true,
  interceptors: true,
  reflection: true,
  maxStreamsPerConnection: true,
  maxMessageBytes: true,
  streamWindowBytes: true,
  maxHeaderBytes: true,
  maxConnections: true,
  handshakeTimeoutMs: true,
  idleTimeoutMs: true,
  frameTimeoutMs: true,
  slowReaderTimeoutMs: true,
});

const SERVICE_OPTIONS = optionNames<ServiceOptions>({ interceptors: true, observe: true });

type State = 'idle' | 'listening' | 'draining' | 'closed';

export interface ServerStats {
  state: State;
  connections: number;
  /** Requests read and not yet answered (queued or running). */
  inFlight: number;
  /** Requests waiting for a handler slot. */
  queued: number;
  /** The most answer bytes any one connection has waiting to be sent. */
  maxBufferedBytes: number;
  /** Connections whose reads are paused because their peer does not read its answers. */
  pausedConnections: number;
}

/**
 * A corpc server: reads frames, checks each request from its header alone (method, deadline,
 * limits), queues it for a handler slot, then decodes the body and runs the handler inside the
 * request's context. Every request gets exactly one answer, unless its caller cancelled it or
 * went away.
 */
// Its connections hold it as their ConnectionOwner (checked where they are made); no implements
// clause, because the declarations leave its owner-only members out.
export class Server {
  /** @internal */
  readonly maxFrameBytes: number;
  /** @internal */
  readonly maxBufferedBytes: number;
  /** @internal */
  readonly limits: ConnectionLimits;
  private readonly priorityGuard: PriorityGuard | null;
  /** The admission controller: `server.admission.metrics()` gives the last window's figures. */
  readonly admission: AdmissionController;
  private readonly entry: EntryPriorities;
  /** The health service's statuses: `server.health.set('my.Service', 'NOT_SERVING')`. */
  readonly health = new Health();
  /** The services added, in order (what reflection lists). */
  private readonly services: ServiceDescriptor[] = [];
  private readonly maxInFlightPerConnection: number;
  private readonly maxQueueLength: number;
  private readonly closeGraceMs: number;
  private readonly maxStreamsPerConnection: number;
  private readonly maxMessageBytes: number;
  private readonly streamWindowBytes: number;
  private readonly interceptors: readonly ServerInterceptor[];
  private readonly methods = new MethodTable();
  /** Reads each request's header in turn (dispatch runs one request at a time). */
  private readonly header = new RequestHeaderReader();
  private readonly connections = new Set<ServerConnection>();
  private readonly queue: fastq.queue<ServerCall>;
  private readonly net: NetServer;
  private queued = 0;
  /** Calls that have a handler slot and wait for a later turn of the event loop (loop-turn.ts). */
  private readonly deferred = new DeferredQueue<ServerCall>((call, at) => this.start(call, at));
  private state: State = 'idle';
  private closing: Promise<void> | null = null;

  constructor(options: ServerOptions = {}) {
    knownKeys('', options, SERVER_OPTIONS);
    ({
      maxFrameBytes: this.maxFrameBytes,
      maxInFlightPerConnection: this.maxInFlightPerConnection,
      maxBufferedBytes: this.maxBufferedBytes,
    } = peerLimits(options));
    this.maxQueueLength = integerOption('maxQueueLength', options.maxQueueLength, 10_000, 1);
    this.closeGraceMs = integerOption('closeGraceMs', options.closeGraceMs, 10_000, 0);
    this.maxStreamsPerConnection = integerOption('maxStreamsPerConnection', options.maxStreamsPerConnection, 100, 1);
    this.maxMessageBytes = integerOption('maxMessageBytes', options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 1);
    this.streamWindowBytes = integerOption(
      'streamWindowBytes',
      options.streamWindowBytes,
      DEFAULT_STREAM_WINDOW_BYTES,
      1,
      MAX_STREAM_WINDOW_BYTES,
    );
    const concurrency = integerOption('concurrency', options.concurrency, 1024, 1);
    this.queue = fastq(this, startQueuedCall, concurrency);
    this.limits = connectionLimits(options);
    const key = priorityKeyOption(options.priorityKey);
    this.priorityGuard = key === undefined ? null : new PriorityGuard(key);
    this.net = createListener(serverTlsOption(options.tls), this.limits.handshakeTimeoutMs, (socket) =>
      this.accept(socket),
    );
    // TLS handshakes that fail (bad or missing client certificate) are the peer's problem, not ours.
    this.net.on('tlsClientError', (error: Error) => debug('TLS handshake failed: %s', error.message));
    this.admission = new AdmissionController(options.admission, concurrency);
    this.entry = new EntryPriorities(options.entry);
    // The built-in services answer the platform (probes, `corpc list`), not users' calls: the
    // server's interceptors (set just after) are not around them.
    this.interceptors = [];
    this.addService(HealthService, healthHandlers(this.health));
    if (booleanOption('reflection', options.reflection, false))
      this.addService(
        ReflectionService,
        reflectionHandlers(() => this.services),
      );
    this.interceptors = interceptorsOption<ServerInterceptor>('interceptors', options.interceptors);
  }

  /** Registers the handlers of one service, behind the server's interceptors and its own. */
  addService<S extends ServiceDescriptor>(
    service: S,
    handlers: ServiceHandlers<S>,
    options: ServiceOptions = {},
  ): this {
    knownKeys(`addService(${service.name})`, options, SERVICE_OPTIONS);
    const interceptors = [
      ...this.interceptors,
      ...interceptorsOption<ServerInterceptor>('interceptors', options.interceptors),
    ];
    for (const [name, descriptor] of Object.entries(service.methods)) {
      const handler = (handlers as Record<string, MethodEntry['handler'] | undefined>)[name];
      if (typeof handler !== 'function') {
        throw new RpcError(Status.INVALID_ARGUMENT, `addService(${service.name}): no handler for method "${name}"`, {
          reason: Reason.MissingHandler,
        });
      }
      if (this.methods.has(descriptor.path)) {
        throw new RpcError(
          Status.ALREADY_EXISTS,
          `addService(${service.name}): method "${descriptor.path}" is already registered`,
          {
            reason: Reason.DuplicateMethod,
          },
        );
      }
      const entryBusiness = service.entry === true || this.entry.all ? this.entry.businessOf(descriptor) : -1;
      // The handler is bound once here, so handlers written as class methods keep their `this`;
      // a method with no interceptors keeps it as it is (nothing added to its path).
      const bound = handler.bind(handlers);
      this.methods.add({
        descriptor,
        handler: interceptors.length === 0 ? bound : interceptServer(interceptors, service, descriptor, bound),
        observer: options.observe?.(descriptor) ?? null,
        counters: this.admission.methodCounters(descriptor.path),
        entryBusiness,
        kind: descriptor.kind ?? 'unary',
      });
    }
    this.services.push(service);
    this.health.set(service.name, 'SERVING');
    return this;
  }

  /** Starts listening; resolves with the bound address (useful with port 0). */
  listen(options: ListenOptions = {}): Promise<AddressInfo> {
    if (this.state !== 'idle') {
      const message = `listen(): the server is ${this.state}; a server listens once (create a new one to listen again)`;
      return Promise.reject(new RpcError(Status.FAILED_PRECONDITION, message, { reason: Reason.AlreadyStarted }));
    }
    const port = integerOption('port', options.port, 0, 0, 65535);
    const host = options.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      this.net.once('error', reject);
      this.net.listen(port, host, () => {
        this.net.off('error', reject);
        this.net.on('error', (error) => debug('listener error: %s', error.message));
        this.state = 'listening';
        this.admission.open();
        this.health.set('', 'SERVING');
        resolve(this.net.address() as AddressInfo);
      });
    });
  }

  /** A snapshot for tests, metrics and debugging. */
  stats(): ServerStats {
    let inFlight = 0;
    let maxBufferedBytes = 0;
    let pausedConnections = 0;
    for (const connection of this.connections) {
      inFlight += connection.calls.size;
      maxBufferedBytes = Math.max(maxBufferedBytes, connection.writer.bufferedBytes);
      if (connection.paused) pausedConnections++;
    }
    return {
      state: this.state,
      connections: this.connections.size,
      inFlight,
      queued: this.queued,
      maxBufferedBytes,
      pausedConnections,
    };
  }

  /** The level sent with every answer: callers shed locally what lies above it. */
  get admissionLevel(): number {
    return this.admission.advertisedLevel;
  }

  address(): AddressInfo | null {
    return this.net.address() as AddressInfo | null;
  }

  /**
   * Drains: stops accepting, tells every client to go elsewhere (GOAWAY), lets calls in flight
   * finish within `closeGraceMs`, then cuts what is left. Resolves when every connection is closed.
   */
  close(graceMs = this.closeGraceMs): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.state = 'draining';
    this.health.shutdown();
    this.closing = new Promise<void>((resolve) => {
      const finished = (): void => {
        clearTimeout(timer);
        this.state = 'closed';
        this.admission.close();
        resolve();
      };
      const timer = setTimeout(() => this.endStreams(), graceMs);
      timer.unref();
      // net.Server's close callback runs once the listener and every connection are closed.
      this.net.close(finished);
      for (const connection of this.connections)
        connection.goaway('the server is shutting down', Math.min(GOAWAY_LINGER_MS, graceMs));
    });
    return this.closing;
  }

  /**
   * The grace is over: each stream still open is ended with UNAVAILABLE (`server_closing`) and
   * its handler cancelled, then every connection is cut (unary calls in flight fail at their
   * callers with UNAVAILABLE, as with `destroy()`).
   */
  private endStreams(): void {
    const error = new RpcError(Status.UNAVAILABLE, 'the server shut down before the stream finished (closeGraceMs)', {
      reason: Reason.ServerClosing,
    });
    for (const connection of this.connections) {
      if (connection.streams === 0) continue;
      for (const call of connection.calls.values()) {
        if (call.stream === null) continue;
        if (call.claimAnswer()) connection.answerError(call.id, error.status, error.message, error.reason);
        // The handler stops (its generator's finally runs) and the call finishes after: its
        // own end or error then finds the call answered and writes nothing.
        call.cancel(error);
      }
      connection.writer.flush();
    }
    // The error frames are with the kernel; cut the connections once they are on their way.
    setImmediate(() => this.destroy());
  }

  /** Closes every connection at once; calls in flight fail at their callers with UNAVAILABLE. */
  destroy(): void {
    if (this.state !== 'closed' && this.closing === null) {
      this.closing = new Promise((resolve) => this.net.close(() => resolve()));
    }
    this.state = 'draining';
    this.health.shutdown();
    this.admission.close();
    for (const connection of this.connections) connection.destroy();
  }

  /** @internal The request path, from a REQUEST (or OPEN) frame to the handler queue. */
  dispatch(
    connection: ServerConnection,
    id: number,
    buf: Buffer,
    start: number,
    end: number,
    opensStream: boolean,
  ): void {
    // Arrival is when the bytes were read, not when this frame's turn in the chunk came.
    const arrivedAt = connection.readAt;
    const headerStart = start + REQUEST_FIXED_BYTES;
    const headerEnd = headerStart + buf.readUInt16BE(start + FRAME_BASE_BYTES);
    if (headerEnd > end) {
      return connection.protocolError(protocolError('the request header runs past the end of its frame'));
    }
    const header = this.header;
    const problem = header.read(buf, headerStart, headerEnd);
    if (problem !== null) return connection.protocolError(protocolError(problem));
    this.priorityGuard?.check(header);

    if (connection.calls.has(id)) {
      return connection.protocolError(protocolError(`request id ${id} reused while still in flight`));
    }
    if (connection.state !== ConnectionState.Open) {
      return connection.answerError(
        id,
        Status.UNAVAILABLE,
        'the server is shutting down; send new calls elsewhere',
        Reason.Draining,
      );
    }
    const entry = this.methods.find(header);
    if (entry === undefined) {
      return connection.answerError(
        id,
        Status.UNIMPLEMENTED,
        `unknown method "${header.method}"`,
        Reason.UnknownMethod,
      );
    }
    const path = entry.descriptor.path;
    if ((entry.kind === 'unary') === opensStream) {
      const how = opensStream ? 'a unary call' : 'a stream';
      return connection.answerError(
        id,
        Status.UNIMPLEMENTED,
        `${path} is a ${entry.kind} method: call it as ${how}`,
        Reason.WrongMethodKind,
      );
    }
    if (opensStream && connection.streams >= this.maxStreamsPerConnection) {
      return connection.answerError(
        id,
        Status.RESOURCE_EXHAUSTED,
        `${path}: more than ${this.maxStreamsPerConnection} streams open on one connection (maxStreamsPerConnection)`,
        Reason.TooManyStreams,
      );
    }
    const deadlineMs = header.deadlineMs;
    if (deadlineMs <= 0) {
      this.admission.reject(Reason.Expired, entry.counters);
      return connection.answerError(
        id,
        Status.DEADLINE_EXCEEDED,
        `${path}: the deadline passed before the request arrived`,
        Reason.Expired,
      );
    }
    if (connection.calls.size >= this.maxInFlightPerConnection) {
      return connection.answerError(
        id,
        Status.RESOURCE_EXHAUSTED,
        `${path}: more than ${this.maxInFlightPerConnection} calls in flight on one connection (maxInFlightPerConnection)`,
        Reason.TooManyInFlight,
      );
    }
    let business = header.business;
    let user = header.user;
    if (entry.entryBusiness >= 0) {
      // An entry service trusts no priority from outside: it assigns them.
      business = entry.entryBusiness;
      user = this.entry.userOf(header.metadata, header.traceId);
    }
    // Rejections answer with one constant message per reason (no formatting on the shedding
    // path; the answer carries the admission level, the details are in the metrics).
    // The connection is open (checked above): the prepacked answer goes straight to its writer.
    if (!this.admission.arrive(compoundLevel(business, user), arrivedAt, entry.counters)) {
      return connection.writer.packedError(id, this.admissionLevel, SHED_BY_LEVEL);
    }
    if (this.queued >= this.maxQueueLength) {
      this.admission.reject(Reason.QueueFull, entry.counters);
      return connection.writer.packedError(id, this.admissionLevel, SHED_QUEUE_FULL);
    }
    const call = new ServerCall({
      connection,
      id,
      entry,
      deadline: arrivedAt + deadlineMs,
      businessPriority: business,
      userPriority: user,
      // Decoded only now: a rejected request never turns its trace id into a string.
      traceId: header.traceId,
      metadata: header.metadata,
      buf,
      bodyStart: headerEnd,
      bodyEnd: end,
      arrivedAt,
      admission: this.admission,
    });
    if (opensStream) {
      call.stream = new ServerStream(call, entry.kind, this.streamWindowBytes);
      connection.streams++;
    }
    connection.calls.add(call);
    this.queued++;
    this.queue.push(call, noop);
  }

  /** @internal A client's MESSAGE on `call`'s stream: checked against the size limit and the credit, decoded, handed to the handler. */
  streamMessage(call: ServerCall, buf: Buffer, start: number, end: number): void {
    const stream = call.stream;
    if (stream === null)
      return call.connection.protocolError(protocolError(`a message for request ${call.id}, which is not a stream`));
    const bodyStart = start + ANSWER_FIXED_BYTES;
    if (end - bodyStart > this.maxMessageBytes) {
      return this.endStream(call, messageTooLarge(call.method, 'a message', end - bodyStart, this.maxMessageBytes));
    }
    let message: unknown;
    try {
      message = unpackAt(buf, bodyStart, end);
      const decode = call.entry.descriptor.decodeRequest;
      if (decode !== undefined) message = decode(message);
    } catch (error) {
      return this.endStream(
        call,
        error instanceof RpcError
          ? error
          : new RpcError(Status.INVALID_ARGUMENT, `${call.method}: a message is not valid MessagePack`, {
              reason: Reason.BadRequest,
            }),
      );
    }
    if (!stream.receive(message, end - bodyStart)) {
      this.endStream(
        call,
        new RpcError(
          Status.RESOURCE_EXHAUSTED,
          `${call.method}: the client sent a message past the credit the server granted`,
          {
            reason: Reason.WindowExceeded,
          },
        ),
      );
    }
  }

  /** A client broke a stream's rules: the stream ends with `error` (its handler is cancelled), the connection stays. */
  private endStream(call: ServerCall, error: RpcError): void {
    if (call.done) return;
    // Answered once its handler has stopped (a stream still queued: when it would have started).
    call.cancel(error);
  }

  /**
   * @internal A call got a handler slot: it starts now if the loop's turn is still within its
   * budget and no call waits before it, else in a later turn, in arrival order (loop-turn.ts).
   */
  schedule(call: ServerCall): void {
    const at = now();
    if (this.deferred.mayStart(at)) this.start(call, at);
    else this.deferred.push(call);
  }

  /** A call leaves the queue for its handler at `startedAt`. */
  private start(call: ServerCall, startedAt: number): void {
    this.queued--;
    call.startedAt = startedAt;
    const cancelled = call.isCancelledAt(startedAt);
    // A cancelled call is answered as such below; its level is not checked (counted once).
    const level = cancelled ? 0 : compoundLevel(call.businessPriority, call.userPriority);
    const drop = this.admission.start(startedAt - call.arrivedAt, startedAt, level, call.entry.counters);
    if (cancelled) {
      if (startedAt >= call.deadline) {
        this.admission.reject(Reason.Expired, call.entry.counters);
        return this.answerError(
          call,
          Status.DEADLINE_EXCEEDED,
          `${call.method}: the deadline passed while the request was queued`,
          Reason.Expired,
        );
      }
      // Whatever ended it while queued (the caller's CANCEL, or a stream rule it broke, such as
      // message_too_large) is what it is answered with.
      const cancellation = call.cancellationAt(startedAt)!;
      return this.answerError(call, cancellation.status, cancellation.message, cancellation.reason);
    }
    if (drop !== null) {
      return this.answerError(
        call,
        Status.RESOURCE_EXHAUSTED,
        drop === Reason.QueueDelay ? OVERLOADED_QUEUE_DELAY : OVERLOADED_LEVEL,
        drop,
      );
    }
    let request: unknown;
    try {
      request = call.bodyStart < call.bodyEnd ? unpackAt(call.buf, call.bodyStart, call.bodyEnd) : undefined;
      // The requests of a client or bidirectional stream come later, each decoded as it arrives.
      const decode =
        call.stream === null || call.entry.kind === 'server-stream' ? call.entry.descriptor.decodeRequest : undefined;
      if (decode !== undefined) request = decode(request);
    } catch (error) {
      const problem =
        error instanceof RpcError
          ? error
          : new RpcError(Status.INVALID_ARGUMENT, `${call.method}: the request body is not valid MessagePack`, {
              reason: Reason.BadRequest,
            });
      return this.answerError(call, problem.status, problem.message, problem.reason ?? Reason.BadRequest);
    }
    call.handlerRan = true;
    void call.connection.handlerScope.run(call, invokeHandler, this, call, request);
    this.admission.ran(now() - startedAt);
  }

  /** @internal */
  answer(call: ServerCall, result: unknown): void {
    // A result that comes after the deadline, or after the caller cancelled, is not sent: the
    // caller has given up (or will at its own deadline), and a late success would race the
    // DEADLINE_EXCEEDED it is owed.
    const time = now();
    const cancellation = call.cancellationAt(time);
    if (cancellation !== null)
      return this.answerError(call, cancellation.status, cancellation.message, cancellation.reason);
    if (call.claimAnswer()) {
      try {
        call.connection.writer.response(call.id, this.admissionLevel, result);
      } catch (error) {
        // Nothing was written: the claimed answer is this error instead.
        debug('%s (trace %s): response cannot be encoded: %s', call.method, call.traceId, (error as Error).message);
        call.connection.answerError(
          call.id,
          Status.INTERNAL,
          `${call.method}: the response could not be encoded`,
          Reason.BadResponse,
        );
      }
    }
    this.finish(call, time);
  }

  /** @internal */
  answerError(call: ServerCall, status: Status, message: string, reason?: RpcError['reason']): void {
    if (call.claimAnswer()) call.connection.answerError(call.id, status, message, reason);
    this.finish(call);
  }

  /** @internal */
  connectionClosed(connection: ServerConnection): void {
    this.connections.delete(connection);
  }

  private accept(socket: Socket): void {
    if (this.state !== 'listening') {
      socket.destroy();
      return;
    }
    const connection = new ServerConnection(socket, this);
    this.connections.add(connection);
    if (this.connections.size > this.limits.maxConnections) {
      connection.refuse(`the server has ${this.limits.maxConnections} connections already (maxConnections)`);
    }
  }

  private finish(call: ServerCall, time = now()): void {
    if (call.done) return;
    call.done = true;
    if (call.startedAt > 0) {
      // A stream's length is the caller's choice, not a service time: it only frees its slot.
      if (call.stream === null)
        this.admission.finish(time - call.arrivedAt, time, call.handlerRan ? time - call.startedAt : -1);
      else this.admission.streamFinished(time);
    }
    call.end();
    call.connection.callFinished(call);
    call.connection.pauseIfBacklogged();
    const done = call.queueDone;
    if (done !== null) {
      call.queueDone = null;
      done(null);
    }
  }
}

const OVERLOADED_LEVEL = "the server is overloaded: this request's priority is below its admission level";
const OVERLOADED_QUEUE_DELAY = 'the server is overloaded: the request waited too long in its queue';
/** Shedding answers, packed once: rejecting from the header formats and packs nothing. */
export const SHED_BY_LEVEL = packedError(Status.RESOURCE_EXHAUSTED, OVERLOADED_LEVEL, Reason.AdmissionLevel);
const SHED_QUEUE_FULL = packedError(
  Status.RESOURCE_EXHAUSTED,
  'the server is overloaded: its queue is full (maxQueueLength)',
  Reason.QueueFull,
);

function noop(): void {}

function startQueuedCall(this: Server, call: ServerCall, done: fastq.done): void {
  call.queueDone = done;
  this.schedule(call);
}

async function invokeHandler(server: Server, call: ServerCall, request: unknown): Promise<void> {
  const observer = call.entry.observer;
  observer?.started(call);
  let running = true;
  try {
    const stream = call.stream;
    const result =
      stream === null ? await call.entry.handler(request, call) : await stream.run(call.entry.handler, request, call);
    running = false;
    observer?.succeeded(now() - call.startedAt);
    server.answer(call, result);
  } catch (thrown) {
    if (running) observer?.failed(now() - call.startedAt, thrown);
    // Past the deadline (or cancelled), what failed in the handler (a wait, a call downstream)
    // failed because of it: the caller is owed the request's own DEADLINE_EXCEEDED (or CANCELLED),
    // not the text of whatever was waiting in this process, as answer() does for a late result.
    const cancellation = call.cancellationAt(now());
    if (cancellation !== null)
      return server.answerError(call, cancellation.status, cancellation.message, cancellation.reason);
    const error = RpcError.from(thrown, call.method);
    if (error !== thrown) debug('%s (trace %s) failed: %O', call.method, call.traceId, thrown);
    const message = error === thrown ? error.message : `${error.message} (trace ${call.traceId})`;
    server.answerError(call, error.status, message, error.reason);
  }
}

function protocolError(message: string): RpcError {
  return new RpcError(Status.INTERNAL, `protocol error: ${message}`, { reason: Reason.ProtocolError });
}
