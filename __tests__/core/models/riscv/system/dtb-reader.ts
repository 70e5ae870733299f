// Test support for fdt.test.ts: a small reader of DTB blobs and of the DTS text dtc
// writes, both into the same plain tree, so that a blob from our writer can be compared
// with the tree QEMU writes for its virt board.

export interface DtNode {
  name: string;
  props: { name: string; value: Uint8Array }[];
  children: DtNode[];
}

export interface Dtb {
  header: {
    magic: number;
    totalsize: number;
    offDtStruct: number;
    offDtStrings: number;
    offMemRsvmap: number;
    version: number;
    lastCompVersion: number;
    bootCpuidPhys: number;
    sizeDtStrings: number;
    sizeDtStruct: number;
  };
  reservations: { address: bigint; size: bigint }[];
  root: DtNode;
}

/** Parses a DTB, checking its structure-block tokens as it goes. */
export function readDtb(blob: Uint8Array): Dtb {
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const h = (i: number) => v.getUint32(4 * i);
  const header = {
    magic: h(0),
    totalsize: h(1),
    offDtStruct: h(2),
    offDtStrings: h(3),
    offMemRsvmap: h(4),
    version: h(5),
    lastCompVersion: h(6),
    bootCpuidPhys: h(7),
    sizeDtStrings: h(8),
    sizeDtStruct: h(9),
  };
  const reservations: { address: bigint; size: bigint }[] = [];
  for (let o = header.offMemRsvmap; ; o += 16) {
    const address = v.getBigUint64(o);
    const size = v.getBigUint64(o + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }
  const cstr = (o: number): [string, number] => {
    let e = o;
    while (blob[e] !== 0) e++;
    return [new TextDecoder().decode(blob.subarray(o, e)), e + 1];
  };
  let p = header.offDtStruct;
  const token = () => {
    const t = v.getUint32(p);
    p += 4;
    return t;
  };
  const align = () => {
    p = (p + 3) & ~3;
  };
  const stack: DtNode[] = [];
  let root: DtNode | undefined;
  for (;;) {
    const t = token();
    if (t === 1) {
      const [name, next] = cstr(p);
      p = next;
      align();
      const node: DtNode = { name, props: [], children: [] };
      if (stack.length) stack[stack.length - 1].children.push(node);
      else if (root) throw new Error('second root node');
      else root = node;
      stack.push(node);
    } else if (t === 3) {
      const len = token();
      const nameoff = token();
      const [name] = cstr(header.offDtStrings + nameoff);
      stack[stack.length - 1].props.push({ name, value: blob.slice(p, p + len) });
      p += len;
      align();
    } else if (t === 2) {
      if (!stack.pop()) throw new Error('unbalanced END_NODE');
    } else if (t === 4) {
      // NOP
    } else if (t === 9) {
      break;
    } else {
      throw new Error(`bad token ${t} at ${p - 4}`);
    }
  }
  if (!root || stack.length) throw new Error('unterminated tree');
  if (p !== header.offDtStruct + header.sizeDtStruct) throw new Error(`structure block ends at ${p}, header says ${header.offDtStruct + header.sizeDtStruct}`);
  return { header, reservations, root };
}

/** Parses the DTS that `dtc -O dts` writes (cells, strings with escapes, byte strings,
 *  empty properties, nested nodes; // and block comments). */
export function readDts(text: string): DtNode {
  const src = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  let i = 0;
  const ws = () => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  const expect = (s: string) => {
    ws();
    if (!src.startsWith(s, i)) throw new Error(`expected ${s} at ${i}: ${src.slice(i, i + 30)}`);
    i += s.length;
  };
  const ident = () => {
    ws();
    const m = /^[A-Za-z0-9,._+#@\-/]+/.exec(src.slice(i));
    if (!m) throw new Error(`expected a name at ${i}: ${src.slice(i, i + 30)}`);
    i += m[0].length;
    return m[0];
  };
  const value = (): number[] => {
    ws();
    const out: number[] = [];
    if (src[i] === '<') {
      i++;
      for (;;) {
        ws();
        if (src[i] === '>') {
          i++;
          break;
        }
        const m = /^(0x[0-9a-fA-F]+|\d+)/.exec(src.slice(i));
        if (!m) throw new Error(`bad cell at ${i}`);
        i += m[0].length;
        const c = Number(m[0]);
        out.push((c >>> 24) & 0xff, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff);
      }
    } else if (src[i] === '"') {
      i++;
      while (src[i] !== '"') {
        if (src[i] === '\\') {
          i++;
          const oct = /^[0-7]{1,3}/.exec(src.slice(i));
          const hex = /^x[0-9a-fA-F]{1,2}/.exec(src.slice(i));
          if (oct) {
            out.push(parseInt(oct[0], 8));
            i += oct[0].length;
          } else if (hex) {
            out.push(parseInt(hex[0].slice(1), 16));
            i += hex[0].length;
          } else {
            const esc: Record<string, number> = { n: 10, t: 9, r: 13, '\\': 92, '"': 34, a: 7, b: 8, v: 11, f: 12 };
            out.push(esc[src[i]] ?? src.charCodeAt(i));
            i++;
          }
        } else {
          out.push(src.charCodeAt(i));
          i++;
        }
      }
      i++;
      out.push(0);
    } else if (src[i] === '[') {
      i++;
      for (;;) {
        ws();
        if (src[i] === ']') {
          i++;
          break;
        }
        out.push(parseInt(src.slice(i, i + 2), 16));
        i += 2;
      }
    } else {
      throw new Error(`bad value at ${i}: ${src.slice(i, i + 30)}`);
    }
    return out;
  };
  const body = (name: string): DtNode => {
    const node: DtNode = { name, props: [], children: [] };
    expect('{');
    for (;;) {
      ws();
      if (src[i] === '}') {
        i++;
        expect(';');
        return node;
      }
      const n = ident();
      ws();
      if (src[i] === '{') {
        node.children.push(body(n));
      } else if (src[i] === ';') {
        i++;
        node.props.push({ name: n, value: new Uint8Array(0) });
      } else {
        expect('=');
        const bytes: number[] = [];
        for (;;) {
          bytes.push(...value());
          ws();
          if (src[i] === ',') {
            i++;
            continue;
          }
          break;
        }
        expect(';');
        node.props.push({ name: n, value: Uint8Array.from(bytes) });
      }
    }
  };
  expect('/dts-v1/;');
  expect('/');
  return body('');
}

/** The node at a path like /soc/serial@10000000, or undefined. */
export function nodeAt(root: DtNode, path: string): DtNode | undefined {
  let n: DtNode | undefined = root;
  for (const part of path.split('/').filter(Boolean)) n = n?.children.find((c) => c.name === part);
  return n;
}

export function prop(node: DtNode | undefined, name: string): Uint8Array | undefined {
  return node?.props.find((p) => p.name === name)?.value;
}

export function cells(value: Uint8Array | undefined): number[] {
  if (!value) return [];
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return Array.from({ length: value.length / 4 }, (_, k) => v.getUint32(4 * k));
}

export function strings(value: Uint8Array | undefined): string[] {
  if (!value) return [];
  return new TextDecoder().decode(value).split('\0').slice(0, -1);
}

/** Every node with a phandle, by phandle. */
export function phandles(root: DtNode): Map<number, { path: string; node: DtNode }> {
  const out = new Map<number, { path: string; node: DtNode }>();
  const walk = (n: DtNode, path: string) => {
    const p = prop(n, 'phandle');
    if (p) out.set(cells(p)[0], { path, node: n });
    for (const c of n.children) walk(c, `${path === '/' ? '' : path}/${c.name}`);
  };
  walk(root, '/');
  return out;
}
