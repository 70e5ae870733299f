// A progress bar for long runs on stderr. It stays silent for the first second (short
// runs print nothing), then redraws in place on a terminal, or prints a plain line
// every five seconds when stderr is a file or a CI log.

import { formatQuantity } from 'virtlab';

export class Progress {
  private readonly start = performance.now();
  private lastDraw = 0;
  private shown = false;

  constructor(
    private readonly write: (s: string) => void,
    private readonly tty: boolean,
  ) {}

  update(done: number, total: number, simulatedNs?: number): void {
    const now = performance.now();
    const elapsed = now - this.start;
    if (elapsed < 1000) return;
    if (now - this.lastDraw < (this.tty ? 100 : 5000)) return;
    this.lastDraw = now;
    this.shown = true;
    const frac = total ? done / total : 1;
    const eta = frac > 0 ? (elapsed / frac - elapsed) / 1000 : 0;
    const sim = simulatedNs === undefined ? `${done}/${total}` : `${formatQuantity(simulatedNs, 'ns')} simulated`;
    const text = `${(frac * 100).toFixed(1).padStart(5)}%  ${sim}  ${(elapsed / 1000).toFixed(1)} s elapsed  ~${eta.toFixed(0)} s left`;
    if (this.tty) {
      const width = 30;
      const filled = Math.round(frac * width);
      this.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
    } else this.write(`progress: ${text}\n`);
  }

  done(): void {
    if (this.shown && this.tty) this.write('\r\x1b[K');
  }
}
