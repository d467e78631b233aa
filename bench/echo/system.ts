import type { Send } from '../../runtime/loadgen/engine.ts';

/**
 * One echo implementation the bench can run: a server (in its own process) and a client that
 * sends the 32-byte echo request. corpc, grpc-js and the bare ceiling all fit this shape, so one
 * runner measures them all the same way.
 */
export interface EchoSystem {
  readonly name: SystemName;
  serve(): Promise<{ port: number; close(): Promise<void> }>;
  connect(target: string, connections: number): Promise<{ send: Send; close(): Promise<void> }>;
}

const SYSTEM_NAMES = ['corpc', 'bare', 'grpc-js'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

/** The request every system echoes: 32 bytes of text. */
export const PAYLOAD = { text: 'corpc-bench-echo-payload-32bytes' } as const;

export async function loadSystem(name: SystemName): Promise<EchoSystem> {
  switch (name) {
    case 'corpc':
      return (await import('./corpc.ts')).corpcSystem;
    case 'bare':
      return (await import('./bare.ts')).bareSystem;
    case 'grpc-js':
      return (await import('./grpc.ts')).grpcSystem;
  }
}

export function isSystemName(value: string): value is SystemName {
  return (SYSTEM_NAMES as readonly string[]).includes(value);
}
