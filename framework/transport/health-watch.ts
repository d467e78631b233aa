import { Reason, RpcError, Status } from '../errors.ts';
import { newTraceId } from '../context.ts';
import { now } from '../deadline.ts';
import { HealthService, type HealthCheckResponse } from '../health.ts';
import { RequestHeader, REQUEST_HEADER_FIELDS } from '../protocol/index.ts';
import { ClientStream } from '../streams/client-stream.ts';
import { ClientCall, type CallOwner } from './client-call.ts';
import { signedMetadata } from './priority-auth.ts';
import type { ClientConnection } from './client-connection.ts';

/**
 * The deadline of one Watch stream. The wire needs one; an hour is long enough that reopening
 * costs nothing, and bounds how long a server's handler slot is held by a client that forgot it.
 */
const WATCH_MS = 60 * 60_000;
/** After a Watch that ended (shed, a connection lost, a drain…), the pause before the next: doubled per Watch that ended without a message, up to MAX_RETRY_MS. */
const RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
/** The receive window of a Watch: its messages are a few bytes, read as they come. */
const WINDOW_BYTES = 1024;
const WATCH = HealthService.methods.watch;

/** What a health watch needs from its subchannel. */
export interface HealthWatchOwner {
  /** A ready connection to watch on, or null (the watch resumes at the next `resume()`). */
  readyConnection(): ClientConnection | null;
  /** `serving` changed: the channel recomputes what calls pick from. */
  servingChanged(): void;
}

/**
 * `ChannelOptions.healthCheck`: one subchannel's server health, heard through a `Health/Watch`
 * stream of the whole server (`""`) on one of its connections: the server sends its status at
 * once and then each change. NOT_SERVING takes the subchannel out of the channel's rotation
 * until SERVING comes. A stream that ends (it failed, its connection went, the server drained)
 * is opened again after a pause that grows while streams end without a message. Its streams are
 * not the channel's: no retries, no counts in `stats()`, highest priority. A server without the
 * health service's stream (UNIMPLEMENTED) is taken as serving and not asked again.
 */
export class HealthWatch implements CallOwner {
  /** As the server last said; true until it says otherwise. */
  serving = true;
  private call: ClientCall | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Watches in a row that ended without a message: the next pause is RETRY_MS doubled as often. */
  private failures = 0;
  private stopped = false;

  /** `priorityKey`: a server that trusts only signed priorities would serve an unsigned Watch at the lowest. */
  constructor(
    private readonly owner: HealthWatchOwner,
    private readonly priorityKey: Buffer | undefined,
  ) {}

  /** Opens a Watch on a ready connection unless one is open or waiting to be reopened. */
  resume(): void {
    if (this.stopped || this.call !== null || this.retryTimer !== null) return;
    const connection = this.owner.readyConnection();
    if (connection === null) return;
    const stream = new ClientStream('server-stream', WATCH.path, WINDOW_BYTES);
    const call = new ClientCall({
      owner: this,
      method: WATCH,
      request: { service: '' },
      parent: null,
      deadline: now() + WATCH_MS,
      timeoutMs: WATCH_MS,
      business: 0,
      user: 0,
      traceId: newTraceId(),
      metadata: null,
    });
    call.stream = stream;
    stream.host = call;
    // The outcome is read where the stream's loop ends, after its last message (read()).
    call.promise.catch(ignore);
    this.call = call;
    header[RequestHeader.METHOD] = WATCH.path;
    header[RequestHeader.DEADLINE_MS] = WATCH_MS;
    header[RequestHeader.BUSINESS] = 0;
    header[RequestHeader.USER] = 0;
    header[RequestHeader.TRACE_ID] = call.traceId;
    header[RequestHeader.METADATA] =
      this.priorityKey === undefined ? null : signedMetadata(this.priorityKey, null, 0, 0, call.traceId);
    try {
      connection.send(call, header);
    } catch (error) {
      // A server that speaks no streams (protocol version 1): UNIMPLEMENTED, handled as a failed Watch.
      call.reject(RpcError.from(error));
    }
    void this.read(call, stream);
  }

  /** No more watching (the subchannel leaves, the channel closes): an open Watch is cancelled. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.call?.cancel(
      new RpcError(Status.CANCELLED, `${WATCH.path}: the client stopped watching`, { reason: Reason.Cancelled }),
    );
  }

  /** Each status as it comes; then the stream's end, whatever it was. */
  private async read(call: ClientCall, stream: ClientStream): Promise<void> {
    let error: RpcError | null = null;
    try {
      for await (const message of stream) {
        this.failures = 0;
        this.set((message as HealthCheckResponse).status !== 'NOT_SERVING');
      }
    } catch (thrown) {
      error = RpcError.from(thrown);
    }
    this.ended(call, error);
  }

  private ended(call: ClientCall, error: RpcError | null): void {
    if (this.call !== call) return;
    this.call = null;
    if (this.stopped) return;
    if (error?.status === Status.UNIMPLEMENTED) {
      this.stopped = true;
      return this.set(true);
    }
    // The last status stands until the next Watch's first message: at once on a connection to a
    // restarted server, which the subchannel has to make first (resume() waits for it).
    const pause = Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** this.failures) * (0.8 + Math.random() * 0.4);
    this.failures++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.resume();
    }, pause);
    this.retryTimer.unref();
  }

  private set(serving: boolean): void {
    if (this.serving === serving) return;
    this.serving = serving;
    this.owner.servingChanged();
  }

  /** @internal CallOwner: a Watch is not retried. */
  attemptFailed(call: ClientCall, error: RpcError): void {
    call.reject(error);
  }

  /** @internal CallOwner */
  callSucceeded(): void {}

  /** @internal CallOwner */
  callFailed(): void {}
}

function ignore(): void {}

/** Reused for every Watch: it is encoded synchronously by `send`. */
const header: unknown[] = new Array(REQUEST_HEADER_FIELDS).fill(null);
