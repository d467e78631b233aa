import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Resolver, type ChannelOptions, type ClientTlsOptions } from 'corpc';
import { UsageError } from './command-line.ts';

/**
 * How the client commands (`corpc bench`, `corpc call`, `corpc list`) reach a target: the DNS
 * servers to ask, the TLS flags, spelt as the client's `tls` option is (`tls.ca` is
 * `--tls-ca`), and the help text that describes targets and these flags.
 */

/** parseArgs options of the target flags. */
export const TARGET_FLAGS = {
  'dns-server': { type: 'string', multiple: true },
  tls: { type: 'boolean', default: false },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-servername': { type: 'string' },
} as const;

/** The usage lines of a target (named `<address>` or `<target>`) and of the TLS flags. */
export function targetUsage(name: string): string {
  return `  ${name.padEnd(27)}host:port, dns:///name:port, srv:///_service._tcp.name,
                             static://host1:port1,host2:port2 (docs/resolver.md)`;
}
export const TARGET_FLAGS_USAGE = `      --dns-server HOST:PORT resolve dns:/// and srv:/// targets with this DNS server (e.g. Consul's
                             127.0.0.1:8600) instead of the system's; repeat for more
tls (any of these turns it on):
      --tls                  connect over TLS, verifying the server with Node's public CAs
      --tls-ca FILE          PEM of the CA the server's certificate must chain to
      --tls-cert FILE        this client's certificate (PEM), for mutual TLS; with --tls-key
      --tls-key FILE         its private key (PEM)
      --tls-servername NAME  the name the server's certificate must carry (default: the host)`;

interface TargetValues {
  'dns-server'?: string[] | undefined;
  tls?: boolean | undefined;
  'tls-ca'?: string | undefined;
  'tls-cert'?: string | undefined;
  'tls-key'?: string | undefined;
  'tls-servername'?: string | undefined;
}

/** The channel options the flags set: `tls` (files read now) and a `resolver` for --dns-server. */
export function targetOptions(values: TargetValues): Pick<ChannelOptions, 'tls' | 'resolver'> {
  const options: Pick<ChannelOptions, 'tls' | 'resolver'> = {};
  const tls = tlsOption(values);
  if (tls !== undefined) options.tls = tls;
  const servers = values['dns-server'];
  if (servers !== undefined) {
    try {
      options.resolver = new Resolver({ servers });
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
      throw new UsageError(`--dns-server: ${error.message}`);
    }
  }
  return options;
}

/** The client's `tls` option from the flags, or undefined for plain TCP. */
function tlsOption(values: TargetValues): ClientTlsOptions | undefined {
  const ca = values['tls-ca'];
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  const servername = values['tls-servername'];
  if (values.tls !== true && ca === undefined && cert === undefined && key === undefined && servername === undefined)
    return undefined;
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError('--tls-cert and --tls-key go together: give both or neither');
  const options: ClientTlsOptions = {};
  if (ca !== undefined) options.ca = pemFile('--tls-ca', ca);
  if (cert !== undefined) options.cert = pemFile('--tls-cert', cert);
  if (key !== undefined) options.key = pemFile('--tls-key', key);
  if (servername !== undefined) options.servername = servername;
  return options;
}

function pemFile(flag: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${flag} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  if (!text.includes('-----BEGIN ')) throw new UsageError(`${flag} ${file}: not PEM (no "-----BEGIN" line)`);
  return text;
}
