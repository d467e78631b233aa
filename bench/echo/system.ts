import type { Send } from '../../runtime/loadgen/engine.ts';

/**
 * One echo implementation the bench can run: a server (in its own process) and a client that
 * sends the 32-byte echo request. corpc, the bare ceiling and every peer framework fit this shape,
 * so one runner measures them all the same way.
 */
export interface EchoSystem {
  readonly name: SystemName;
  serve(): Promise<{ port: number; close(): Promise<void> }>;
  connect(target: string, connections: number): Promise<{ send: Send; close(): Promise<void> }>;
}

const SYSTEM_NAMES = [
  'corpc',
  'corpc-run',
  'bare',
  'grpc-js',
  'connect-es',
  'connect-es-grpc',
  'moleculer',
  'tars',
  'node-http2',
  'corpc-intercepted',
] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

/** The request every system echoes: 32 bytes of text. */
export const PAYLOAD = { text: 'corpc-bench-echo-payload-32bytes' } as const;

export async function loadSystem(name: SystemName): Promise<EchoSystem> {
  switch (name) {
    case 'corpc':
      return (await import('./corpc.ts')).corpcSystem;
    case 'corpc-run':
      return (await import('./corpc-run.ts')).corpcRunSystem;
    case 'corpc-intercepted':
      return (await import('./corpc.ts')).interceptedSystem;
    case 'bare':
      return (await import('./bare.ts')).bareSystem;
    case 'grpc-js':
      return (await import('./grpc.ts')).grpcSystem;
    case 'connect-es':
      return (await import('./connect.ts')).connectEsSystem;
    case 'connect-es-grpc':
      return (await import('./connect.ts')).connectEsGrpcSystem;
    case 'moleculer':
      return (await import('./moleculer.ts')).moleculerSystem;
    case 'tars':
      return (await import('./tars.ts')).tarsSystem;
    case 'node-http2':
      return (await import('./http2.ts')).http2System;
  }
}

export function isSystemName(value: string): value is SystemName {
  return (SYSTEM_NAMES as readonly string[]).includes(value);
}
