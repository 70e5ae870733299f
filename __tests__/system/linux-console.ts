// The Linux boot console as the boot tests compare it with QEMU's: without carriage
// returns and printk timestamps.

export function normalizeConsole(text: string): string[] {
  return text
    .replace(/\r/g, '')
    .split('\n')
    .map((l) => l.replace(/^\[ *\d+\.\d+\] /, ''));
}
