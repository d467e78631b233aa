import { currentContext } from 'corpc';
import { pino, type Logger, type LevelWithSilent } from 'pino';

/**
 * Structured logs: one JSON object per line on stdout (pino). Inside a request, every line
 * carries the request's trace id, taken from the request context.
 */
export function createLogger(level: LevelWithSilent, bindings: Record<string, unknown>): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    mixin() {
      const ctx = currentContext();
      return ctx === undefined ? {} : { traceId: ctx.traceId };
    },
  });
}

export type { Logger };
