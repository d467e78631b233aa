import { promises as dnsPromises, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { debuglog } from 'node:util';
import { InvalidArgumentError, Reason, RpcError, Status } from '../errors.ts';
import { now } from '../deadline.ts';
import { integerOption, knownKeys, optionNames } from '../options.ts';
import { parseAddress, type Endpoint, type HostPort, type ParsedAddress } from './address.ts';
import { HostsFile } from './hosts.ts';

const debug = debuglog('corpc:resolver');

export interface ResolverOptions {
  /** DNS servers (`"10.0.0.2"`, `"127.0.0.1:5353"`, `"[::1]:53"`). Default: the system's (resolv.conf). */
  servers?: string[];
  /** Floor on a record's TTL, in ms. Default 1000. */
  minTtlMs?: number;
  /** Ceiling on a record's TTL, in ms. Default 300000. */
  maxTtlMs?: number;
  /** How long past its expiry an answer may still be used while the DNS server fails. Default 300000. */
  maxStaleMs?: number;
  /** Per-query timeout, in ms (c-ares doubles it per retry). Default 2000. */
  timeoutMs?: number;
  /** Attempts per query and server. Default 2. */
  tries?: number;
  /** How long "no such name" is remembered, in ms (clamped by minTtlMs/maxTtlMs). Default 5000. */
  negativeTtlMs?: number;
  /** The hosts file to read. Default /etc/hosts. */
  hostsFile?: string;
  /**
   * The clock TTLs are measured on: milliseconds, never going back. Default: the process's
   * monotonic clock (`performance.now()`). A test passes its own to step time by hand.
   */
  now?: () => number;
}

const RESOLVER_OPTIONS = optionNames<ResolverOptions>({
  servers: true,
  minTtlMs: true,
  maxTtlMs: true,
  maxStaleMs: true,
  timeoutMs: true,
  tries: true,
  negativeTtlMs: true,
  hostsFile: true,
  now: true,
});

export interface ResolverStats {
  /** DNS queries sent (a name's A and AAAA are two). */
  queriesSent: number;
  /** Lookups answered from the cache. */
  cacheHits: number;
  /** Lookups that joined a query already in flight for the same name. */
  coalesced: number;
  /** Lookups answered with an expired answer because the DNS server failed. */
  staleServed: number;
  /** Queries that failed (NXDOMAIN, timeout, refused…). */
  failures: number;
}

/** `net.connect`-compatible lookup: `net.connect({ host, port, lookup: resolver.lookup })`. */
export type LookupFunction = (
  hostname: string,
  options: LookupOptions | number | LookupCallback,
  callback?: LookupCallback,
) => void;

export type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A resolved address set and when it should next be checked. */
export interface Resolution {
  endpoints: Endpoint[];
  /** Time on the resolver's clock (`resolver.now()`) at which some answer in it expires (Infinity for IP literals). */
  checkAt: number;
}

interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

type Kind = 'addr' | 'srv';
type Answer = readonly string[] | readonly SrvRecord[];

/** One name's cache entry. */
class Entry {
  value: Answer | null = null;
  /** Set while the name is known not to exist (negative caching). */
  negative: RpcError | null = null;
  expiresAt = 0;
  /** After a failed refresh: the answer is stale, and no new query is sent before this time. */
  retryAt = 0;
  /** The TTL the current answer was given, in ms. */
  ttl = 0;
  inflight: Promise<Answer> | null = null;

  constructor(
    readonly name: string,
    readonly kind: Kind,
  ) {}
}

const RETRY_STALE_MS = 1000;

/**
 * corpc's name resolver: DNS through c-ares (`dns.promises.Resolver`), never `getaddrinfo`, so a
 * slow or dead DNS server holds no libuv thread-pool thread (file I/O, crypto and zlib keep
 * running). Answers are cached by their TTL (clamped by minTtlMs/maxTtlMs); concurrent lookups
 * of one name share one query; NXDOMAIN is cached; when the server fails, the last good answer
 * is served for up to maxStaleMs past its expiry.
 */
export class Resolver {
  readonly minTtlMs: number;
  readonly maxTtlMs: number;
  readonly maxStaleMs: number;
  readonly timeoutMs: number;
  readonly negativeTtlMs: number;
  /** The clock answers expire on (`Resolution.checkAt` is a time on it). */
  readonly now: () => number;
  private readonly dns: dnsPromises.Resolver;
  private readonly hosts: HostsFile;
  private readonly cache = new Map<string, Entry>();
  /** Addresses already parsed (bounded: cleared when it reaches 1024). */
  private readonly parsed = new Map<string, ParsedAddress>();
  private readonly counters: ResolverStats = {
    queriesSent: 0,
    cacheHits: 0,
    coalesced: 0,
    staleServed: 0,
    failures: 0,
  };

  constructor(options: ResolverOptions = {}) {
    knownKeys('', options, RESOLVER_OPTIONS);
    this.minTtlMs = integerOption('minTtlMs', options.minTtlMs, 1000, 0);
    this.maxTtlMs = integerOption('maxTtlMs', options.maxTtlMs, 300_000, this.minTtlMs);
    this.maxStaleMs = integerOption('maxStaleMs', options.maxStaleMs, 300_000, 0);
    this.timeoutMs = integerOption('timeoutMs', options.timeoutMs, 2000, 1);
    const tries = integerOption('tries', options.tries, 2, 1, 10);
    this.negativeTtlMs = this.clampTtl(integerOption('negativeTtlMs', options.negativeTtlMs, 5000, 0));
    this.dns = new dnsPromises.Resolver({ timeout: this.timeoutMs, tries });
    if (options.servers !== undefined) {
      if (!Array.isArray(options.servers) || options.servers.length === 0) {
        throw new InvalidArgumentError(
          `servers must be a non-empty array of "ip" or "ip:port" strings, got ${String(options.servers)}`,
        );
      }
      try {
        this.dns.setServers(options.servers);
      } catch (error) {
        throw new InvalidArgumentError(
          `servers must be "ip" or "ip:port" strings, got ${JSON.stringify(options.servers)}: ${(error as Error).message}`,
        );
      }
    }
    const hostsFile = options.hostsFile ?? '/etc/hosts';
    if (typeof hostsFile !== 'string' || hostsFile === '')
      throw new InvalidArgumentError(`hostsFile must be a path, got ${String(hostsFile)}`);
    this.hosts = new HostsFile(hostsFile);
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new InvalidArgumentError(`now must be a function returning milliseconds, got ${String(options.now)}`);
    }
    this.now = options.now ?? now;
    this.lookup = this.lookup.bind(this);
  }

  /** Resolves an address (see parseAddress for the forms) to endpoints with IP addresses. */
  async resolve(address: string): Promise<Endpoint[]> {
    let parsed = this.parsed.get(address);
    if (parsed === undefined) {
      parsed = parseAddress(address);
      if (this.parsed.size >= 1024) this.parsed.clear();
      this.parsed.set(address, parsed);
    }
    return (await this.resolveParsed(parsed, 0)).endpoints;
  }

  /** A copy of the counters. */
  stats(): ResolverStats {
    return { ...this.counters };
  }

  /** @internal
   * Resolves a parsed address. `aheadMs` > 0 refreshes answers that expire within that many ms
   * (a background refresh before expiry); Infinity forces fresh queries (after a connection failed),
   * except for names whose answer was fetched in the last second.
   */
  async resolveParsed(parsed: ParsedAddress, aheadMs: number): Promise<Resolution> {
    const state = { checkAt: Infinity };
    if (parsed.kind === 'hosts') {
      const lists = await Promise.all(parsed.hosts.map((hostPort) => this.hostEndpoints(hostPort, aheadMs, state)));
      return { endpoints: dedupe(lists.flat()), checkAt: state.checkAt };
    }
    const records = (await this.name(parsed.name, 'srv', aheadMs, state)) as readonly SrvRecord[];
    const lists = await Promise.all(
      records.map(async (record) => {
        try {
          const endpoints = await this.hostEndpoints({ host: record.name, port: record.port }, aheadMs, state);
          return endpoints.map((endpoint) => ({ ...endpoint, priority: record.priority, weight: record.weight }));
        } catch (error) {
          // One target that does not resolve must not hide the others.
          debug('SRV target %s of %s: %s', record.name, parsed.name, (error as Error).message);
          return [];
        }
      }),
    );
    const endpoints = dedupe(lists.flat());
    if (endpoints.length === 0 && records.length > 0) {
      throw new RpcError(Status.UNAVAILABLE, `no target of SRV ${parsed.name} resolves to an address`, {
        reason: Reason.DnsNoAddress,
      });
    }
    return { endpoints, checkAt: state.checkAt };
  }

  /** `net.connect`/`http`-compatible lookup through this resolver's cache. */
  lookup(hostname: string, first: LookupOptions | number | LookupCallback, second?: LookupCallback): void {
    const options: LookupOptions =
      typeof first === 'object' && first !== null ? first : typeof first === 'number' ? { family: first } : {};
    const callback = typeof first === 'function' ? first : second;
    if (callback === undefined) throw new InvalidArgumentError('lookup needs a callback');
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    this.addresses(hostname, 0, { checkAt: Infinity }).then(
      (all) => {
        const wanted = family === 0 ? all : all.filter((ip) => isIP(ip) === family);
        if (wanted.length === 0) {
          const error = Object.assign(new Error(`no ${family === 0 ? '' : `IPv${family} `}address for ${hostname}`), {
            code: 'ENOTFOUND',
            hostname,
          });
          return callback(error, options.all === true ? [] : '', 0);
        }
        if (options.all === true)
          callback(
            null,
            wanted.map((address) => ({ address, family: isIP(address) })),
          );
        else callback(null, wanted[0]!, isIP(wanted[0]!));
      },
      (error: RpcError) => {
        const code = error.reason === Reason.DnsNotFound ? 'ENOTFOUND' : 'EAI_AGAIN';
        const failure = Object.assign(new Error(error.message), { code, hostname });
        callback(failure, options.all === true ? [] : '', 0);
      },
    );
  }

  /** Stops watching the hosts file; the resolver stays usable (the file is read again on use). */
  close(): void {
    this.hosts.close();
  }

  private async hostEndpoints(hostPort: HostPort, aheadMs: number, state: { checkAt: number }): Promise<Endpoint[]> {
    const ips = await this.addresses(hostPort.host, aheadMs, state);
    return ips.map((host) => ({ host, port: hostPort.port }));
  }

  private async addresses(host: string, aheadMs: number, state: { checkAt: number }): Promise<readonly string[]> {
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (isIP(bare) !== 0) return [bare];
    const listed = this.hosts.lookup(bare);
    if (listed !== null) return listed;
    return (await this.name(bare, 'addr', aheadMs, state)) as readonly string[];
  }

  /** A name's answer: from the cache, from a query in flight, or from a new query. */
  private name(name: string, kind: Kind, aheadMs: number, state: { checkAt: number }): Promise<Answer> | Answer {
    const key = `${kind} ${name.toLowerCase()}`;
    let entry = this.cache.get(key);
    if (entry === undefined) this.cache.set(key, (entry = new Entry(name, kind)));
    const time = this.now();
    if (entry.negative !== null && time < entry.expiresAt) {
      this.counters.cacheHits++;
      state.checkAt = Math.min(state.checkAt, entry.expiresAt);
      throw entry.negative;
    }
    if (entry.value !== null && time + aheadMs < entry.expiresAt) {
      this.counters.cacheHits++;
      state.checkAt = Math.min(state.checkAt, entry.expiresAt);
      return entry.value;
    }
    // A forced refresh of an answer fetched less than a second ago: keep it.
    if (
      entry.value !== null &&
      aheadMs === Infinity &&
      time < entry.expiresAt &&
      entry.expiresAt - entry.ttl > time - RETRY_STALE_MS
    ) {
      this.counters.cacheHits++;
      state.checkAt = Math.min(state.checkAt, entry.expiresAt);
      return entry.value;
    }
    if (entry.inflight !== null) {
      // Still valid (a refresh ahead of expiry is running): use it without waiting.
      if (entry.value !== null && time < entry.expiresAt) {
        this.counters.cacheHits++;
        state.checkAt = Math.min(state.checkAt, entry.expiresAt);
        return entry.value;
      }
      this.counters.coalesced++;
      return this.track(entry, entry.inflight, state);
    }
    // The server failed recently: serve the stale answer without waiting for it again.
    if (entry.value !== null && time < entry.retryAt && time < entry.expiresAt + this.maxStaleMs) {
      this.counters.staleServed++;
      state.checkAt = Math.min(state.checkAt, entry.retryAt);
      return entry.value;
    }
    const inflight = this.query(entry);
    entry.inflight = inflight;
    return this.track(entry, inflight, state);
  }

  private async track(entry: Entry, inflight: Promise<Answer>, state: { checkAt: number }): Promise<Answer> {
    try {
      return await inflight;
    } finally {
      state.checkAt = Math.min(state.checkAt, entry.retryAt > entry.expiresAt ? entry.retryAt : entry.expiresAt);
    }
  }

  private async query(entry: Entry): Promise<Answer> {
    try {
      let answer: Answer;
      let ttlSeconds: number;
      if (entry.kind === 'addr') {
        this.counters.queriesSent += 2;
        const [v4, v6] = await Promise.allSettled([
          this.dns.resolve4(entry.name, { ttl: true }),
          this.dns.resolve6(entry.name, { ttl: true }),
        ]);
        const records = [
          ...(v4.status === 'fulfilled' ? v4.value : []),
          ...(v6.status === 'fulfilled' ? v6.value : []),
        ];
        if (records.length === 0) {
          const failure = v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : null;
          const other = v6.status === 'rejected' ? v6.reason : null;
          // "No such name" only when neither query failed for another reason.
          const missing = isMissing(failure) && (other === null || isMissing(other));
          throw missing ? notFound(entry.name, 'A/AAAA') : (failure ?? notFound(entry.name, 'A/AAAA'));
        }
        answer = records.map((record) => record.address);
        ttlSeconds = Math.min(...records.map((record) => record.ttl));
      } else {
        this.counters.queriesSent++;
        let records: Awaited<ReturnType<dnsPromises.Resolver['resolveSrv']>>;
        try {
          records = await this.dns.resolveSrv(entry.name);
        } catch (error) {
          throw isMissing(error) ? notFound(entry.name, 'SRV') : error;
        }
        if (records.length === 0) throw notFound(entry.name, 'SRV');
        answer = records.map(({ name, port, priority, weight }) => ({ name, port, priority, weight }));
        // c-ares does not give SRV TTLs: the floor applies (at least a second).
        ttlSeconds = Math.max(1, this.minTtlMs / 1000);
      }
      const ttl = this.clampTtl(ttlSeconds * 1000);
      entry.value = answer;
      entry.negative = null;
      entry.expiresAt = this.now() + ttl;
      entry.retryAt = 0;
      entry.ttl = ttl;
      return answer;
    } catch (error) {
      this.counters.failures++;
      const time = this.now();
      if (error instanceof RpcError && error.reason === Reason.DnsNotFound) {
        entry.value = null;
        entry.negative = error;
        entry.expiresAt = time + this.negativeTtlMs;
        throw error;
      }
      const failure = new RpcError(
        Status.UNAVAILABLE,
        `DNS lookup of ${entry.name} failed: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { reason: Reason.DnsFailed, cause: error },
      );
      if (entry.value !== null && time < entry.expiresAt + this.maxStaleMs) {
        debug('serving the stale answer for %s: %s', entry.name, failure.message);
        entry.retryAt = time + RETRY_STALE_MS;
        this.counters.staleServed++;
        return entry.value;
      }
      throw failure;
    } finally {
      entry.inflight = null;
    }
  }

  private clampTtl(ms: number): number {
    return Math.min(this.maxTtlMs, Math.max(this.minTtlMs, ms));
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === dnsPromises.NOTFOUND || code === dnsPromises.NODATA;
}

function notFound(name: string, type: string): RpcError {
  return new RpcError(Status.UNAVAILABLE, `DNS has no ${type} record for ${name}`, { reason: Reason.DnsNotFound });
}

function dedupe(endpoints: Endpoint[]): Endpoint[] {
  const seen = new Set<string>();
  return endpoints.filter((endpoint) => {
    const key = `${endpoint.host} ${endpoint.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

let shared: Resolver | null = null;

/** The process-wide resolver clients use unless given one. */
export function defaultResolver(): Resolver {
  return (shared ??= new Resolver());
}
