/** RSS and open descriptors of one process over time, from /proc. */
import { readdirSync, readFileSync } from 'node:fs';
import { readMemory } from '../proxy/children.js';

export interface Sample {
  /** Seconds since the soak started. */
  readonly atS: number;
  readonly rssKiB: number;
  readonly fds: number;
}

/** Open file descriptors of process `pid` (entries of /proc/<pid>/fd). */
export function countFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * The kernel's UDP error counters (Linux, the `Udp:` lines of /proc/net/snmp; for the whole network
 * namespace, not one process): `inErrors` counts datagrams dropped on receipt, `rcvbufErrors` the part of
 * them due to a full socket receive buffer, `sndbufErrors` sends refused for a full send buffer.
 * Undefined where /proc/net/snmp is not there.
 */
export interface UdpKernelErrors {
  inErrors: number;
  rcvbufErrors: number;
  sndbufErrors: number;
}

export function readUdpKernelErrors(): UdpKernelErrors | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/net/snmp', 'utf8');
  } catch {
    return undefined;
  }
  const [header, values] = text
    .split('\n')
    .filter((line) => line.startsWith('Udp: '))
    .map((line) => line.trim().split(/\s+/).slice(1));
  if (header === undefined || values === undefined) return undefined;
  const field = (name: string): number => {
    const value = Number(values[header.indexOf(name)]);
    return Number.isFinite(value) ? value : 0;
  };
  return {
    inErrors: field('InErrors'),
    rcvbufErrors: field('RcvbufErrors'),
    sndbufErrors: field('SndbufErrors'),
  };
}

/** At most this many samples are kept (a 5-minute run at 1 s takes 300); the peaks count them all. */
const maxSamples = 4000;

export class ProcessSampler {
  readonly samples: Sample[] = [];
  peakRssKiB = 0;
  peakFds = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly label: string,
    readonly pid: number,
    private readonly startedAt: number,
  ) {}

  /** Reads RSS and descriptors now and records them. */
  sample(): Sample {
    const sample = {
      atS: (performance.now() - this.startedAt) / 1000,
      rssKiB: readMemory(this.pid).rssKiB,
      fds: countFds(this.pid),
    };
    this.peakRssKiB = Math.max(this.peakRssKiB, sample.rssKiB);
    this.peakFds = Math.max(this.peakFds, sample.fds);
    if (this.samples.length < maxSamples) this.samples.push(sample);
    return sample;
  }

  /** The peak resident set over the process's whole life (VmHWM), KiB. */
  highWaterKiB(): number {
    return readMemory(this.pid).hwmKiB;
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      try {
        this.sample();
      } catch {
        this.stop(); // the process is gone
      }
    }, intervalMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  last(): Sample | undefined {
    return this.samples[this.samples.length - 1];
  }
}
