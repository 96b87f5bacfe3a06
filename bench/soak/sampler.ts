/** RSS and open descriptors of one process over time, from /proc. */
import { readdirSync } from 'node:fs';
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
