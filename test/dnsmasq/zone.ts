import type { Zone } from '../helpers/dns-server.ts';

/**
 * The records test/resolver-records.test.ts resolves, served either by the test's own DNS
 * server or (in CI, through test/dnsmasq/run.sh) by dnsmasq with the config config.ts prints.
 */
export const TTL_SECONDS = 2;

export const ZONE: Zone = {
  'web.svc.test': { A: ['10.0.0.1', '10.0.0.2'], ttl: TTL_SECONDS },
  'v6.svc.test': { AAAA: ['fd00::1'], ttl: TTL_SECONDS },
  'busy.svc.test': { A: ['10.0.0.3'], ttl: TTL_SECONDS },
  '_web._tcp.svc.test': {
    SRV: [
      { priority: 0, weight: 10, port: 8080, target: 'web.svc.test' },
      { priority: 1, weight: 5, port: 8081, target: 'v6.svc.test' },
    ],
    ttl: TTL_SECONDS,
  },
};

/** dnsmasq configuration serving ZONE (and NXDOMAIN for every other name under svc.test). */
export function dnsmasqConfig(): string {
  const lines = ['local=/svc.test/', `local-ttl=${TTL_SECONDS}`, `auth-ttl=${TTL_SECONDS}`];
  for (const [name, records] of Object.entries(ZONE)) {
    const addresses = [...(records.A ?? []), ...(records.AAAA ?? [])];
    if (addresses.length > 0) for (const address of addresses) lines.push(`host-record=${name},${address}`);
    for (const srv of records.SRV ?? [])
      lines.push(`srv-host=${name},${srv.target},${srv.port},${srv.priority},${srv.weight}`);
  }
  return `${lines.join('\n')}\n`;
}
