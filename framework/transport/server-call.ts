import { RequestContext } from '../context.ts';
import { now } from '../deadline.ts';
import type { MethodAdmission } from '../admission/controller.ts';
import type { MethodDescriptor } from '../service.ts';
import type { ServerConnection } from './server-connection.ts';
import type { Deferrable } from './loop-turn.ts';

/** A registered method: its descriptor and the user's handler. */
export interface MethodEntry {
  readonly descriptor: MethodDescriptor;
  readonly handler: (request: unknown, context: RequestContext) => unknown;
  /** This method's admission counters for the current window. */
  readonly counters: MethodAdmission;
  /** The business priority assigned when this is an entry method, else -1 (callers' priorities are kept). */
  readonly entryBusiness: number;
}

/**
 * One request on the server, from arrival to answer. It *is* the request context that the
 * handler sees through `context()`, so serving a request allocates one record, not two.
 */
export class ServerCall extends RequestContext implements Deferrable<ServerCall> {
  readonly connection: ServerConnection;
  readonly id: number;
  readonly entry: MethodEntry;
  /** The frame's bytes; the body is `buf[bodyStart, bodyEnd)`, decoded only when the handler starts. */
  readonly buf: Buffer;
  readonly bodyStart: number;
  readonly bodyEnd: number;
  /** When the frame was read (`now()`), for queuing time. */
  readonly arrivedAt: number;
  override get queuingMs(): number {
    return (this.startedAt === 0 ? now() : this.startedAt) - this.arrivedAt;
  }

  /** When the handler started (`now()`), or 0 while queued. */
  startedAt = 0;
  /** Set once the answer is written or the call is dropped. */
  done = false;
  /** Set when its handler is called (a call dropped or cancelled at start never runs one). */
  handlerRan = false;
  /** The handler queue's completion callback, set when the call leaves the queue. */
  queueDone: ((error: Error | null) => void) | null = null;
  /** The next call waiting for a later turn of the event loop (loop-turn.ts). */
  nextDeferred: ServerCall | null = null;

  constructor(
    connection: ServerConnection,
    id: number,
    entry: MethodEntry,
    deadline: number,
    businessPriority: number,
    userPriority: number,
    traceId: string,
    metadata: Readonly<Record<string, string>> | null,
    buf: Buffer,
    bodyStart: number,
    bodyEnd: number,
    arrivedAt: number,
  ) {
    super(entry.descriptor.path, deadline, businessPriority, userPriority, traceId, connection.peer, metadata);
    this.connection = connection;
    this.id = id;
    this.entry = entry;
    this.buf = buf;
    this.bodyStart = bodyStart;
    this.bodyEnd = bodyEnd;
    this.arrivedAt = arrivedAt;
  }
}
