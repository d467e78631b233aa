/**
 * The one error catalog of corpc. Status codes are gRPC's names and numbers, so that users
 * know them already. An `RpcError` carries a wire status, a stable string `code` for programs
 * (the status name), an optional finer `reason` (also stable, e.g. `"frame_too_large"`), and a
 * message for people. `cause` and stack traces stay in this process: only status, message and
 * reason cross the wire.
 *
 * This module is a leaf: it imports nothing from corpc.
 */

export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type Status = (typeof Status)[keyof typeof Status];
export type StatusName = keyof typeof Status;

const statusNames: readonly StatusName[] = (() => {
  const names: StatusName[] = [];
  for (const [name, value] of Object.entries(Status)) names[value] = name as StatusName;
  return names;
})();

/** The name of a status number (`14` → `"UNAVAILABLE"`); `"UNKNOWN"` for numbers outside the table. */
export function statusName(status: number): StatusName {
  return statusNames[status] ?? 'UNKNOWN';
}

/** True for a number that is one of the defined status codes. */
export function isStatus(value: unknown): value is Status {
  return typeof value === 'number' && Number.isInteger(value) && statusNames[value] !== undefined;
}

export interface RpcErrorOptions {
  /** A stable, machine-readable refinement of the status (`"queue_full"`, `"local_admission"`…). */
  reason?: string | undefined;
  /** The underlying error; kept for logs, never sent. */
  cause?: unknown;
}

/**
 * Marks every RpcError, whichever copy of corpc made it. A project can load corpc twice (an ES
 * module and a CommonJS transform of it, or two installed versions): a handler's RpcError from
 * one copy must still be an RpcError to the server of the other, or it would reach the caller as
 * INTERNAL. `Symbol.for` gives both copies the same symbol.
 */
const BRAND = Symbol.for('corpc.RpcError');

export class RpcError extends Error {
  /** `error instanceof RpcError` checks the brand, so it holds across copies of corpc; subclasses keep the prototype check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== RpcError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  override readonly name = 'RpcError';
  readonly status: Status;
  readonly reason: string | undefined;

  constructor(status: Status, message: string, options?: RpcErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.reason = options?.reason;
  }

  /** The status name, stable for programs to match on (`"DEADLINE_EXCEEDED"`). */
  get code(): StatusName {
    return statusName(this.status);
  }

  /**
   * Normalizes anything thrown into an RpcError. An RpcError is returned as is; anything else
   * becomes INTERNAL with a generic message (the original is kept as `cause` for logs).
   */
  static from(error: unknown, context?: string): RpcError {
    if (error instanceof RpcError) return error;
    const where = context === undefined ? '' : ` in ${context}`;
    return new RpcError(Status.INTERNAL, `internal error${where}`, { cause: error, reason: 'unhandled' });
  }
}
Object.defineProperty(RpcError.prototype, BRAND, { value: true });

/** Thrown for a bad option or config value; names the option and what was wrong. */
export class InvalidArgumentError extends TypeError {
  override readonly name = 'InvalidArgumentError';
  readonly code = 'CORPC_INVALID_ARGUMENT';
}
