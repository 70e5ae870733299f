// The console as lines: the UART hands over one byte at a time, and the machine's
// users (virtlab boot's init and window marks, the paced machine of a scenario VM)
// act on whole lines. One splitter serves them all, so they agree on what a line is.

// latin1: one character per byte, so that a line cut at maxBytes or holding stray bytes
// still decodes to what was sent.
const decoder = new TextDecoder('latin1');

/**
 * Returns a byte sink that calls `onLine` with each line when its newline arrives,
 * without the line ending (\n, or \r\n). A line longer than `maxBytes` keeps its
 * first `maxBytes` bytes.
 */
export function consoleLines(onLine: (text: string) => void, maxBytes = 4096): (byte: number) => void {
  const line: number[] = [];
  return (b) => {
    if (b !== 10) {
      if (line.length < maxBytes) line.push(b);
      return;
    }
    const text = decoder.decode(Uint8Array.from(line)).replace(/\r$/, '');
    line.length = 0;
    onLine(text);
  };
}
