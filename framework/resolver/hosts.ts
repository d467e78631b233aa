import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { isIP } from 'node:net';
import { debuglog } from 'node:util';

const debug = debuglog('corpc:resolver');

/**
 * The hosts file (`/etc/hosts`), read without the libuv thread pool: once, synchronously (it is
 * a few hundred bytes), and again when inotify says it changed. `localhost` and its subdomains
 * resolve to the loopback addresses even when the file does not list them (RFC 6761).
 */
export class HostsFile {
  private table: Map<string, string[]> | null = null;
  private watcher: FSWatcher | null = null;

  constructor(readonly path: string) {}

  /** The addresses the file gives a name (IPv4 first), or null when it does not list it. */
  lookup(name: string): readonly string[] | null {
    const key = name.toLowerCase().replace(/\.$/, '');
    const listed = this.load().get(key);
    if (listed !== undefined) return listed;
    if (key === 'localhost' || key.endsWith('.localhost')) return LOOPBACK;
    return null;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  private load(): Map<string, string[]> {
    if (this.table !== null) return this.table;
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      debug('hosts file %s not read: %s', this.path, (error as Error).message);
    }
    this.table = parseHosts(text);
    if (this.watcher === null) {
      try {
        // Any change (including an editor's rename-over) drops the table; the next lookup re-reads it.
        this.watcher = watch(this.path, { persistent: false }, () => {
          this.table = null;
          this.watcher?.close();
          this.watcher = null;
        });
        this.watcher.on('error', () => {
          this.table = null;
          this.watcher = null;
        });
      } catch {
        // No file to watch: it is read again only when the resolver is recreated.
      }
    }
    return this.table;
  }
}

const LOOPBACK: readonly string[] = Object.freeze(['127.0.0.1', '::1']);

export function parseHosts(text: string): Map<string, string[]> {
  const table = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [ip, ...names] = line.split(/\s+/);
    const family = isIP(ip!);
    if (family === 0) continue;
    for (const name of names) {
      const key = name.toLowerCase();
      const list = table.get(key) ?? [];
      if (!list.includes(ip!)) {
        if (family === 4) list.splice(list.findIndex((a) => isIP(a) === 6) >>> 0, 0, ip!);
        else list.push(ip!);
      }
      table.set(key, list);
    }
  }
  return table;
}
