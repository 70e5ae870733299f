// The SiFive test finisher of QEMU's virt board (`sifive,test1`, a syscon at 0x100000):
// one 32-bit register through which firmware powers the machine off or resets it.
// OpenSBI's reset driver and Linux's syscon-poweroff/syscon-reboot nodes write it:
// 0x5555 powers off with status 0, 0x3333 | (code << 16) powers off with failure `code`,
// 0x7777 resets. Other values are ignored, as QEMU does.
import type { MmioDevice } from './bus';

export const FINISHER_BASE = 0x100000;
export const FINISHER_SIZE = 0x1000;
export const FINISHER_PASS = 0x5555;
export const FINISHER_FAIL = 0x3333;
export const FINISHER_RESET = 0x7777;

export class Finisher implements MmioDevice {
  readonly name = 'test';
  readonly base = FINISHER_BASE;
  readonly size = FINISHER_SIZE;

  constructor(
    private readonly onPowerOff: (status: number) => void,
    private readonly onReset: () => void,
  ) {}

  read(_offset: number, _width: 1 | 2 | 4): number {
    return 0;
  }

  write(offset: number, width: 1 | 2 | 4, value: number): void {
    // The command is the low half-word of the register at offset 0; the failure code
    // rides in the high half, so only a whole-word write can carry one.
    if (offset !== 0 || width === 1) return;
    const v = width === 4 ? value >>> 0 : value & 0xffff;
    switch (v & 0xffff) {
      case FINISHER_PASS:
        this.onPowerOff(0);
        break;
      case FINISHER_FAIL:
        this.onPowerOff(v >>> 16);
        break;
      case FINISHER_RESET:
        this.onReset();
        break;
    }
  }
}
