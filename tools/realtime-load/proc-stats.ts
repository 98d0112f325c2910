import { readFileSync } from 'node:fs';

/** CPU time (s) and resident memory (MB) of a process, from /proc (Linux). */
export function procSample(pid: number): { cpuS: number; rssMb: number; at: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS: ticks / 100, rssMb: Number(rss?.[1] ?? 0) / 1024, at: performance.now() };
  } catch {
    return { cpuS: Number.NaN, rssMb: Number.NaN, at: performance.now() };
  }
}

/** CPU use in % of one core between two samples, and the memory at the second. */
export function procDelta(before: ReturnType<typeof procSample>, after: ReturnType<typeof procSample>): { cpuPct: number; cpuS: number; rssMb: number } {
  const seconds = (after.at - before.at) / 1000;
  const cpuS = after.cpuS - before.cpuS;
  return { cpuPct: (100 * cpuS) / seconds, cpuS, rssMb: after.rssMb };
}
