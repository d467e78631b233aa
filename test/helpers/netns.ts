import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/**
 * Network namespaces joined to this one by veth pairs: separate "hosts" on one machine, each
 * with its own address, whose link a test can cut. Needs root and `ip`; `netnsUnavailable()`
 * says why not when they cannot be made.
 */
export interface Host {
  /** The namespace's address, reachable from the test process. */
  address: string;
  namespace: string;
  /** The veth end in the test's namespace: taking it down cuts the host off. */
  link: string;
}

function ip(...args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`ip ${args.join(' ')}: ${(result.stderr || result.error?.message || '').trim()}`);
}

/** Null when namespaces work here, else the reason they do not. */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `corpc-probe-${process.pid}`;
  const made = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (made.error !== undefined) return `\`ip\` is not available: ${made.error.message}`;
  if (made.status !== 0) return `\`ip netns add\` is not permitted here: ${made.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

/** Makes `count` hosts on a random private /24 (so parallel runs do not clash). */
export function makeHosts(count: number): Host[] {
  const tag = `${process.pid % 100000}${Math.floor(Math.random() * 36).toString(36)}`;
  const net = `10.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 250)}`;
  const hosts: Host[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const namespace = `corpc-${tag}-${i}`;
      const link = `cv${tag}${i}`;
      const peer = `cp${tag}${i}`;
      const ours = `${net}.${i * 4 + 1}`;
      const theirs = `${net}.${i * 4 + 2}`;
      ip('netns', 'add', namespace);
      hosts.push({ address: theirs, namespace, link });
      ip('link', 'add', link, 'type', 'veth', 'peer', 'name', peer);
      ip('link', 'set', peer, 'netns', namespace);
      ip('addr', 'add', `${ours}/30`, 'dev', link);
      ip('link', 'set', link, 'up');
      ip('-n', namespace, 'addr', 'add', `${theirs}/30`, 'dev', peer);
      ip('-n', namespace, 'link', 'set', peer, 'up');
      ip('-n', namespace, 'link', 'set', 'lo', 'up');
    }
  } catch (error) {
    removeHosts(hosts);
    throw error;
  }
  return hosts;
}

export function setLink(host: Host, state: 'up' | 'down'): void {
  ip('link', 'set', host.link, state);
}

/** Deleting a namespace deletes its veth end, and with it the pair. */
export function removeHosts(hosts: Host[]): void {
  for (const host of hosts) spawnSync('ip', ['netns', 'del', host.namespace]);
  for (const host of hosts) spawnSync('ip', ['link', 'del', host.link], { stdio: 'ignore' });
}

/** Runs a TypeScript file inside a host's namespace, with the tests' loader. */
export function spawnTsIn(host: Host, file: string, args: string[]): ChildProcess {
  return spawn(
    'ip',
    ['netns', 'exec', host.namespace, process.execPath, '--conditions=corpc-source', '--import', 'tsx', file, ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
}
