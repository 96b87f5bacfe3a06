import type { Random } from '../../core/random.js';
import type { UdpLoss } from './impairments.js';

/**
 * Decides loss per datagram. Gilbert–Elliott: before each datagram the chain moves (good → bad with
 * probability `p`, bad → good with `r`), then the datagram is lost with the state's loss probability
 * (`lossGood`, default 0; `lossBad`, default 1). Runs in the bad state are geometric with mean 1/r; the
 * long-run share of datagrams in it is p / (p + r).
 */
export class LossStage {
  private bad = false;

  constructor(private readonly random: Random) {}

  /** A new model starts in the good state; the same model keeps its state across a live update. */
  configure(previous: UdpLoss | undefined, next: UdpLoss | undefined): void {
    const isChain = (loss: UdpLoss | undefined): boolean => loss !== undefined && 'model' in loss;
    if (!isChain(previous) || !isChain(next)) this.bad = false;
  }

  drops(loss: UdpLoss): boolean {
    if (!('model' in loss)) return this.random.chance(loss.probability);
    if (this.bad) {
      if (this.random.chance(loss.r)) this.bad = false;
    } else if (this.random.chance(loss.p)) {
      this.bad = true;
    }
    return this.random.chance(this.bad ? (loss.lossBad ?? 1) : (loss.lossGood ?? 0));
  }
}
