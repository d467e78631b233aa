import {
  createServer as createNetServer,
  connect as connectNet,
  isIP,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { connect as connectTls, createServer as createTlsServer } from 'node:tls';
import { InvalidArgumentError } from '../errors.ts';
import { knownKeys, optionNames } from '../options.ts';

/** PEM text or bytes. */
export type Pem = string | Buffer;

/** TLS for a server: its key and certificate, and optionally client certificates (mutual TLS). */
export interface ServerTlsOptions {
  key: Pem;
  cert: Pem;
  /** CAs that client certificates must chain to (with `requestCert`). */
  ca?: Pem | Pem[];
  /** Require a client certificate signed by `ca` (mutual TLS). Default false. */
  requestCert?: boolean;
}

/** TLS for a client: the CA to verify the server with, and optionally its own certificate. */
export interface ClientTlsOptions {
  /** CAs the server's certificate must chain to. Default: Node's bundled public CAs. */
  ca?: Pem | Pem[];
  /** The client's certificate and key, for servers that require mutual TLS. */
  cert?: Pem;
  key?: Pem;
  /** The name the server's certificate must carry. Default: the host being called. */
  servername?: string;
}

function isPem(value: unknown): value is Pem {
  return (typeof value === 'string' && value.length > 0) || Buffer.isBuffer(value);
}

function pemOption(name: string, value: unknown, required: boolean): Pem | undefined {
  if (value === undefined && !required) return undefined;
  if (!isPem(value)) throw new InvalidArgumentError(`${name} must be PEM text or a Buffer, got ${typeof value}`);
  return value;
}

function caOption(name: string, value: unknown): Pem | Pem[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) pemOption(`${name}[${index}]`, item, true);
    return value as Pem[];
  }
  return pemOption(name, value, true);
}

function objectOption(name: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${name} must be an object, got ${String(value)}`);
  }
  return value as Record<string, unknown>;
}

const SERVER_TLS_OPTIONS = optionNames<ServerTlsOptions>({ key: true, cert: true, ca: true, requestCert: true });
const CLIENT_TLS_OPTIONS = optionNames<ClientTlsOptions>({ ca: true, cert: true, key: true, servername: true });

export function serverTlsOption(value: unknown): ServerTlsOptions | undefined {
  const tls = objectOption('tls', value);
  if (tls === undefined) return undefined;
  knownKeys('tls', tls, SERVER_TLS_OPTIONS);
  const requestCert = tls.requestCert;
  if (requestCert !== undefined && typeof requestCert !== 'boolean') {
    throw new InvalidArgumentError(`tls.requestCert must be a boolean, got ${String(requestCert)}`);
  }
  const options: ServerTlsOptions = {
    key: pemOption('tls.key', tls.key, true)!,
    cert: pemOption('tls.cert', tls.cert, true)!,
  };
  const ca = caOption('tls.ca', tls.ca);
  if (ca !== undefined) options.ca = ca;
  if (requestCert === true) {
    if (ca === undefined)
      throw new InvalidArgumentError('tls.requestCert needs tls.ca, the CA that client certificates must chain to');
    options.requestCert = true;
  }
  return options;
}

export function clientTlsOption(value: unknown): ClientTlsOptions | undefined {
  const tls = objectOption('tls', value);
  if (tls === undefined) return undefined;
  knownKeys('tls', tls, CLIENT_TLS_OPTIONS);
  const options: ClientTlsOptions = {};
  const ca = caOption('tls.ca', tls.ca);
  if (ca !== undefined) options.ca = ca;
  const cert = pemOption('tls.cert', tls.cert, false);
  const key = pemOption('tls.key', tls.key, false);
  if ((cert === undefined) !== (key === undefined))
    throw new InvalidArgumentError('tls.cert and tls.key go together: give both or neither');
  if (cert !== undefined) options.cert = cert;
  if (key !== undefined) options.key = key;
  if (tls.servername !== undefined) {
    if (typeof tls.servername !== 'string' || tls.servername === '') {
      throw new InvalidArgumentError(`tls.servername must be a non-empty string, got ${String(tls.servername)}`);
    }
    options.servername = tls.servername;
  }
  return options;
}

/**
 * A listener for corpc: plain TCP, or TLS when `tls` is given (then `onSocket` sees only
 * connections whose handshake finished, within `handshakeTimeoutMs`, and, with `requestCert`,
 * whose client certificate verified against `ca`).
 */
export function createListener(
  tls: ServerTlsOptions | undefined,
  handshakeTimeoutMs: number,
  onSocket: (socket: Socket) => void,
): NetServer {
  if (tls === undefined) return createNetServer(onSocket);
  const requestCert = tls.requestCert === true;
  return createTlsServer(
    {
      key: tls.key,
      cert: tls.cert,
      ca: tls.ca,
      requestCert,
      rejectUnauthorized: requestCert,
      handshakeTimeout: handshakeTimeoutMs,
    },
    onSocket,
  );
}

/** Opens a connection to a server: plain TCP, or TLS verified against `tls.ca`. */
export function openSocket(host: string, port: number, tls: ClientTlsOptions | undefined): Socket {
  if (tls === undefined) return connectNet({ host, port, noDelay: true });
  const socket = connectTls({
    host,
    port,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    // SNI carries names only; an IP address is checked against the certificate's IP entries.
    servername: tls.servername ?? (isIP(host) === 0 ? host : undefined),
  });
  socket.setNoDelay(true);
  return socket;
}
