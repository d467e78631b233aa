import { isIP } from 'node:net';
import { InvalidArgumentError } from '../errors.ts';

/** One place to connect to: an IP address or a host name, and a port; SRV answers add priority and weight. */
export interface Endpoint {
  host: string;
  port: number;
  /** SRV priority: lower is preferred; the others are used only when every preferred one is down. */
  priority?: number;
  /** SRV weight: the share of calls among endpoints of one priority. */
  weight?: number;
}

/** A host name (or IP literal) and a port, still to be resolved. */
export interface HostPort {
  host: string;
  port: number;
}

/** What an address names: host:port pairs to resolve by A/AAAA, or an SRV name. */
export type ParsedAddress =
  | { readonly kind: 'hosts'; readonly address: string; readonly hosts: readonly HostPort[] }
  | { readonly kind: 'srv'; readonly address: string; readonly name: string };

/** `host:port`, an IPv6 literal in brackets (`[::1]:7001`): the form `parseAddress` reads back. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const FORMS =
  'expected host:port, tcp://host:port, dns:///name:port, srv:///_service._tcp.name or static://host:port,host:port';
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:/\s[\],]+)):(\d{1,5})$/;
const NAME =
  /^(?=.{1,253}\.?$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$/;

/**
 * Parses an address by scheme: `host:port` or `tcp://host:port` (several separated by commas),
 * `dns:///name:port`, `srv:///_service._tcp.name`, `static://h1:p1,h2:p2`. Throws an
 * InvalidArgumentError naming the address and what is wrong with it.
 */
export function parseAddress(address: string): ParsedAddress {
  if (typeof address !== 'string' || address === '') {
    throw new InvalidArgumentError(`target ${JSON.stringify(address)} is not an address: ${FORMS}`);
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(address);
  if (scheme === null) return { kind: 'hosts', address, hosts: hostList(address, address) };
  const body = address.slice(scheme[0].length);
  switch (scheme[1]!.toLowerCase()) {
    case 'tcp':
    case 'static':
      return { kind: 'hosts', address, hosts: hostList(address, body) };
    case 'dns': {
      const path = authorityless(address, body);
      const hosts = hostList(address, path);
      if (hosts.length !== 1) throw bad(address, 'dns:/// takes one name:port');
      return { kind: 'hosts', address, hosts };
    }
    case 'srv': {
      const name = authorityless(address, body);
      if (!NAME.test(name)) throw bad(address, `"${name}" is not a DNS name (expected srv:///_service._tcp.name)`);
      return { kind: 'srv', address, name };
    }
    default:
      throw bad(address, `unknown scheme "${scheme[1]}://"`);
  }
}

function authorityless(address: string, body: string): string {
  if (!body.startsWith('/')) {
    throw bad(
      address,
      "a DNS server in the address is not supported; write the scheme with three slashes and set the resolver's servers option",
    );
  }
  return body.slice(1);
}

function hostList(address: string, body: string): HostPort[] {
  if (body === '') throw bad(address, 'no host:port given');
  return body.split(',').map((part) => {
    const match = HOST_PORT.exec(part.trim());
    if (match === null) throw bad(address, `"${part.trim()}" is not host:port`);
    const port = Number(match[3]);
    if (port < 1 || port > 65535) throw bad(address, `port ${match[3]} is outside 1..65535`);
    const host = match[1] ?? match[2]!;
    if (match[1] !== undefined && isIP(host) !== 6) throw bad(address, `"${host}" in brackets is not an IPv6 address`);
    if (isIP(host) === 0 && !NAME.test(host)) throw bad(address, `"${host}" is not a host name or IP address`);
    return { host, port };
  });
}

function bad(address: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`target "${address}" is not an address: ${why}; ${FORMS}`);
}
