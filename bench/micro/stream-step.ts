/**
 * The floor under one message of a server stream, whatever the framework around it: the handler's
 * async generator resumed and awaited once (inside an `AsyncLocalStorage` context, as every
 * handler runs), and the message packed by msgpackr. `bench -- stream` (32-byte payloads) is read
 * against these: their sum bounds the messages per second one server core can send.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { REUSE_BUFFER_MODE } from 'msgpackr';
import { protocol } from 'corpc/internal';
import { measure, measureAsync, type MicroResult } from './measure.ts';

async function* feed(): AsyncGenerator<{ payload: Buffer }> {
  const event = { payload: Buffer.alloc(32, 7) };
  for (;;) yield event;
}

/** Steps per measured call: the harness's own await is spread over them, as a pump loop's would be. */
const STEPS = 64;

export async function main(): Promise<MicroResult[]> {
  const event = { payload: Buffer.alloc(32, 7) };
  const context = new AsyncLocalStorage<object>();
  const perStep = (result: MicroResult): MicroResult => ({ ...result, nsPerOp: result.nsPerOp / STEPS });
  return context.run({}, async () => {
    const steps = feed();
    const packedSteps = feed();
    return [
      await measure('stream floor: msgpackr pack { payload: 32-byte Buffer }', () =>
        protocol.packr.pack(event, REUSE_BUFFER_MODE),
      ),
      perStep(
        await measureAsync('stream floor: async generator step, awaited in a context', async () => {
          for (let i = 0; i < STEPS; i++) await steps.next();
        }),
      ),
      perStep(
        await measureAsync('stream floor: both (one message, no frame, no socket)', async () => {
          for (let i = 0; i < STEPS; i++) protocol.packr.pack((await packedSteps.next()).value, REUSE_BUFFER_MODE);
        }),
      ),
    ];
  });
}
