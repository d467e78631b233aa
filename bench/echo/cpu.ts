import { readFileSync } from 'node:fs';

/**
 * CPU time of this process and of every process it started (a `corpc run` supervisor and its
 * workers, a peer framework's server), in µs: what a server spent, whatever its process tree.
 * This process is read with `process.cpuUsage()` (all threads: GC and libuv included); its
 * descendants from /proc (user + system time, in clock ticks).
 */
export function processTreeCpuMicros(): number {
  const own = process.cpuUsage();
  let total = own.user + own.system;
  for (const pid of descendants(process.pid)) total += procCpuMicros(pid);
  return total;
}

/** Clock ticks per second of /proc's times (USER_HZ: 100 on Linux everywhere). */
const TICKS_PER_S = 100;

function procCpuMicros(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_S;
  } catch {
    return 0; // gone, or no /proc here
  }
}

function descendants(pid: number): number[] {
  const found: number[] = [];
  const walk = (parent: number): void => {
    let children: string;
    try {
      children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8');
    } catch {
      return;
    }
    for (const child of children
      .split(' ')
      .filter((part) => part !== '')
      .map(Number)) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}
