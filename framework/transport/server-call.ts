import { RequestContext } from '../context.ts';
import { now } from '../deadline.ts';
import type { AdmissionController, MethodAdmission } from '../admission/controller.ts';
import { Reason, RpcError, Status } from '../errors.ts';
import type { MethodDescriptor, MethodKind } from '../service.ts';
import type { ServerStream, ServerStreamHost } from '../streams/server-stream.ts';
import { ConnectionState, type ServerConnection } from './server-connection.ts';
import type { Deferrable } from './loop-turn.ts';
import type { HandlerObserver } from './handler-observer.ts';

/** A registered method: its descriptor and the user's handler. */
export interface MethodEntry {
  readonly descriptor: MethodDescriptor;
  readonly handler: (request: unknown, context: RequestContext) => unknown;
  /** Told of each run of the handler (ServiceOptions.observe), or null. */
  readonly observer: HandlerObserver | null;
  /** This method's admission counters for the current window. */
  readonly counters: MethodAdmission;
  /** The business priority assigned when this is an entry method, else -1 (callers' priorities are kept). */
  readonly entryBusiness: number;
  /** `descriptor.kind`, unary when the descriptor names none. */
  readonly kind: MethodKind;
}

/**
 * One request on the server, from arrival to answer. It *is* the request context that the
 * handler sees through `context()`, so serving a request allocates one record, not two.
 */
export class ServerCall extends RequestContext implements Deferrable<ServerCall>, ServerStreamHost {
  readonly connection: ServerConnection;
  readonly id: number;
  readonly entry: MethodEntry;
  /** The frame's bytes; the body is `buf[bodyStart, bodyEnd)`, decoded only when the handler starts. */
  readonly buf: Buffer;
  readonly bodyStart: number;
  readonly bodyEnd: number;
  /** When the frame was read (`now()`), for queuing time. */
  readonly arrivedAt: number;
  /** The server's controller, where the handler's waits for the loop count as queuing time. */
  readonly admission: AdmissionController;
  override get queuingMs(): number {
    return (this.startedAt === 0 ? now() : this.startedAt) - this.arrivedAt;
  }

  /** When the handler started (`now()`), or 0 while queued. */
  startedAt = 0;
  /**
   * Set once the call's one terminal frame (RESPONSE or ERROR) has been written, or it will get
   * none (its connection is gone). Apart from `done`: a stream the drain ends is answered at once
   * and finishes later, when its handler has stopped; whatever the handler does then writes nothing.
   */
  answered = false;
  /** Set once the call is finished: answered, its handler (if any) stopped, its slot freed. */
  done = false;
  /** The stream this call opened (an OPEN frame), or null for a unary call. */
  stream: ServerStream | null = null;
  /** Set when its handler is called (a call dropped or cancelled at start never runs one). */
  handlerRan = false;
  /** The handler queue's completion callback, set when the call leaves the queue. */
  queueDone: ((error: Error | null) => void) | null = null;
  /** The next call waiting for a later turn of the event loop (loop-turn.ts). */
  nextDeferred: ServerCall | null = null;

  constructor(init: ServerCallInit) {
    super(
      init.entry.descriptor.path,
      init.deadline,
      init.businessPriority,
      init.userPriority,
      init.traceId,
      init.connection.peer,
      init.metadata,
    );
    this.connection = init.connection;
    this.id = init.id;
    this.entry = init.entry;
    this.buf = init.buf;
    this.bodyStart = init.bodyStart;
    this.bodyEnd = init.bodyEnd;
    this.arrivedAt = init.arrivedAt;
    this.admission = init.admission;
  }

  /** @internal */
  override loopWaits(): AdmissionController {
    return this.admission;
  }

  /**
   * @internal Claims the call's terminal frame: true the first time, when the connection can
   * still take it; false ever after. Every RESPONSE and ERROR of a call is written behind it, so
   * a call gets exactly one whatever races (the drain, the handler's own end, a cancellation).
   */
  claimAnswer(): boolean {
    if (this.answered) return false;
    this.answered = true;
    return this.connection.state !== ConnectionState.Closed;
  }

  /** @internal ServerStreamHost */
  writeMessage(value: unknown): number {
    try {
      return this.connection.writeMessage(this.id, value);
    } catch (error) {
      throw new RpcError(Status.INTERNAL, `${this.method}: a message could not be encoded`, {
        reason: Reason.BadResponse,
        cause: error,
      });
    }
  }

  /** @internal ServerStreamHost */
  writeCredit(count: number): void {
    this.connection.writeCredit(this.id, count);
  }

  /** @internal ServerStreamHost */
  whenWritable(): Promise<void> | null {
    return this.connection.whenWritable();
  }
}

/** What a server call is made of, given by name (so business and user priority cannot be swapped unseen). */
export type ServerCallInit = Pick<
  ServerCall,
  | 'connection'
  | 'id'
  | 'entry'
  | 'deadline'
  | 'businessPriority'
  | 'userPriority'
  | 'traceId'
  | 'buf'
  | 'bodyStart'
  | 'bodyEnd'
  | 'arrivedAt'
  | 'admission'
> & { readonly metadata: Readonly<Record<string, string>> | null };
