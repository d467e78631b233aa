/** What a client call costs before the socket: the request header encode and the local admission check. */
import { compoundLevel, newTraceId, protocol, userPriorityOfTrace } from 'corpc/internal';
import { measure, type MicroResult } from './measure.ts';

export async function main(): Promise<MicroResult[]> {
  const header: unknown[] = ['Echo/echo', 500, 63, 42, 'a1b2c3d4e5f60', null];
  const target = Buffer.alloc(256);
  let level = 8191;
  return [
    await measure('call header encode (packr.pack of the 6-field array, before)', (i) => {
      header[1] = 500 - (i & 255);
      return protocol.packr.pack(header);
    }),
    await measure('call header encode (by hand: requestHeaderLength + writeRequestHeader)', (i) => {
      header[1] = 500 - (i & 255);
      return protocol.requestHeaderLength(header) === -1 ? -1 : protocol.writeRequestHeader(header, target, 0);
    }),
    await measure('trace id + user priority from the trace', () => userPriorityOfTrace(newTraceId())),
    await measure('local admission check (compound level vs the callee level)', (i) => {
      level = compoundLevel(i & 63, i & 127) <= level ? level : level - 1;
      return level;
    }),
  ];
}
