export { Resolver, defaultResolver } from './resolver.ts';
export type { ResolverOptions, ResolverStats, LookupFunction, LookupCallback, Resolution } from './resolver.ts';
export { formatHostPort, parseAddress } from './address.ts';
export type { Endpoint, HostPort, ParsedAddress } from './address.ts';
export { AddressWatch } from './watch.ts';
export type { WatchListener } from './watch.ts';
