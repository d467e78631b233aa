/**
 * The calls in flight on a connection, as a client at 128 in flight uses them: look up and remove
 * the oldest, add the next id. Against the Map it replaced. The ns/op show only part of the gain:
 * under this churn a Map rehashes, and its discarded tables were most of what the echo client
 * promoted to the old generation (GC pauses, p99 latency of 6–7 ms at 128 in flight).
 */
import { InFlightTable } from 'corpc/internal';
import { measure, type MicroResult } from './measure.ts';

const IN_FLIGHT = 128;

interface Call {
  id: number;
}

interface Table {
  add(call: Call): void;
  get(id: number): Call | undefined;
  remove(call: Call): void;
}

function churn(name: string, table: Table): Promise<MicroResult> {
  const calls = Array.from({ length: IN_FLIGHT }, (_, i) => ({ id: i + 1 }));
  for (const call of calls) table.add(call);
  let next = IN_FLIGHT + 1;
  return measure(name, () => {
    const slot = next % IN_FLIGHT;
    table.get(calls[slot]!.id);
    table.remove(calls[slot]!);
    const call = { id: next++ };
    calls[slot] = call;
    table.add(call);
  });
}

export async function main(): Promise<MicroResult[]> {
  const map = new Map<number, Call>();
  return [
    await churn('in-flight calls: Map, get + delete + set at 128 in flight', {
      add: (call) => map.set(call.id, call),
      get: (id) => map.get(id),
      remove: (call) => map.delete(call.id),
    }),
    await churn('in-flight calls: InFlightTable, get + remove + add', new InFlightTable<Call>()),
  ];
}
