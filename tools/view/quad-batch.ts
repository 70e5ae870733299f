// A batch of axis-aligned rectangles, each with its own colour, drawn by PixiJS in one
// draw call: four corners (float32 x, y) and four colours (RGBA8) per rectangle, and a
// index buffer of two triangles each, listing only the rectangles inside the view. The
// scene writes straight into the typed arrays and marks what changed; only the changed
// arrays are uploaded, and only up to the number of rectangles in use. Nothing is
// allocated per frame and no Graphics geometry is rebuilt. Plain vertices rather than instancing: Chromium's software
// rasterizer (SwiftShader) draws 12,000 instances four times slower than the same
// rectangles as triangles (measured on this page's geometry).

import { Buffer, BufferUsage, Geometry, Mesh, Shader } from 'pixi.js';

const VERTEX = `
attribute vec2 aPosition;
attribute vec4 aColor;
uniform mat3 uProjectionMatrix;
uniform mat3 uWorldTransformMatrix;
uniform mat3 uTransformMatrix;
varying vec4 vColor;
void main(void) {
  mat3 m = uProjectionMatrix * uWorldTransformMatrix * uTransformMatrix;
  gl_Position = vec4((m * vec3(aPosition, 1.0)).xy, 0.0, 1.0);
  vColor = vec4(aColor.rgb * aColor.a, aColor.a);
}`;

const FRAGMENT = `
varying vec4 vColor;
void main(void) {
  gl_FragColor = vColor;
}`;

/** Packs 0xRRGGBB and an alpha (0..1) as the RGBA8 bytes of a little-endian Uint32. */
export function rgba(rgb: number, alpha = 1): number {
  return (((rgb >> 16) & 255) | (rgb & 0xff00) | ((rgb & 255) << 16) | (Math.round(alpha * 255) << 24)) >>> 0;
}

export class QuadBatch {
  readonly mesh: Mesh<Geometry, Shader>;
  /** Per rectangle, its four corners (x, y pairs) and their colour. */
  positions: Float32Array;
  colors: Uint32Array;
  /** Rectangles in use: the first `count`. */
  count = 0;
  private readonly positionBuffer: Buffer;
  private readonly colorBuffer: Buffer;
  private readonly indexBuffer: Buffer;
  private positionsDirty = false;
  private colorsDirty = false;
  /** The area to draw, in the batch's coordinates; rectangles wholly outside it are left out. */
  private view = { x0: -Infinity, y0: -Infinity, x1: Infinity, y1: Infinity };
  private viewChanged = true;
  private culled = -1;
  private counted = -1;
  /** A rectangle moved (not only resized) since the last commit: the view must be culled again. */
  private moved = true;
  /** The ranges of rectangles whose positions and colours changed since the last commit. */
  private posLo = Infinity;
  private posHi = -1;
  private colLo = Infinity;
  private colHi = -1;
  private indices: Uint32Array;

  constructor(capacity: number, label: string) {
    const n = Math.max(1, capacity);
    this.positions = new Float32Array(n * 8);
    this.colors = new Uint32Array(n * 4);
    this.positionBuffer = new Buffer({ data: this.positions, usage: BufferUsage.VERTEX | BufferUsage.COPY_DST, label: `${label} positions` });
    this.colorBuffer = new Buffer({ data: this.colors, usage: BufferUsage.VERTEX | BufferUsage.COPY_DST, label: `${label} colours` });
    this.indices = new Uint32Array(n * 6);
    this.indexBuffer = new Buffer({ data: this.indices, usage: BufferUsage.INDEX | BufferUsage.COPY_DST, label: `${label} indices` });
    const geometry = new Geometry({
      attributes: {
        aPosition: { buffer: this.positionBuffer, format: 'float32x2' },
        aColor: { buffer: this.colorBuffer, format: 'unorm8x4' },
      },
      indexBuffer: this.indexBuffer,
    });
    const shader = Shader.from({ gl: { vertex: VERTEX, fragment: FRAGMENT, name: 'quad-batch' }, resources: {} });
    this.mesh = new Mesh({ geometry, shader });
    this.mesh.label = label;
  }

  get capacity(): number {
    return this.colors.length / 4;
  }

  /** Makes room for n rectangles, keeping the first `count`. */
  reserve(n: number): void {
    if (n <= this.capacity) return;
    let size = this.capacity;
    while (size < n) size *= 2;
    const positions = new Float32Array(size * 8);
    positions.set(this.positions);
    const colors = new Uint32Array(size * 4);
    colors.set(this.colors);
    this.positions = positions;
    this.colors = colors;
    this.indices = new Uint32Array(size * 6);
    this.positionBuffer.data = positions;
    this.colorBuffer.data = colors;
    this.indexBuffer.data = this.indices;
    this.invalidate();
  }

  /**
   * Places rectangle i. `inPlace` says it stays where it was, only changing size (a load
   * bar, a link's thickness): the set of rectangles in the view then stays the same.
   */
  setRect(i: number, x: number, y: number, w: number, h: number, inPlace = false): void {
    const p = this.positions;
    const o = 8 * i;
    // Float32 storage: compare what will be stored, so an unchanged rectangle costs no upload.
    if (p[o] === Math.fround(x) && p[o + 1] === Math.fround(y) && p[o + 4] === Math.fround(x + w) && p[o + 5] === Math.fround(y + h)) return;
    p[o] = x;
    p[o + 1] = y;
    p[o + 2] = x + w;
    p[o + 3] = y;
    p[o + 4] = x + w;
    p[o + 5] = y + h;
    p[o + 6] = x;
    p[o + 7] = y + h;
    this.positionsDirty = true;
    if (!inPlace) this.moved = true;
    if (i < this.posLo) this.posLo = i;
    if (i > this.posHi) this.posHi = i;
  }

  setColor(i: number, color: number): void {
    const c = this.colors;
    const o = 4 * i;
    if (c[o] === color) return;
    c[o] = c[o + 1] = c[o + 2] = c[o + 3] = color;
    this.colorsDirty = true;
    if (i < this.colLo) this.colLo = i;
    if (i > this.colHi) this.colHi = i;
  }

  /** Appends a rectangle (growing the batch if needed); returns its index. */
  push(x: number, y: number, w: number, h: number, color: number): number {
    const i = this.count++;
    this.reserve(this.count);
    this.setRect(i, x, y, w, h);
    this.setColor(i, color);
    return i;
  }

  /** Marks every rectangle in use as changed (after writing the arrays directly). */
  invalidate(): void {
    this.positionsDirty = this.colorsDirty = this.moved = true;
    this.posLo = this.colLo = 0;
    this.posHi = this.colHi = Math.max(0, this.count - 1);
  }

  /** Limits drawing to the rectangles that meet this area (batch coordinates). */
  setView(x0: number, y0: number, x1: number, y1: number): void {
    const v = this.view;
    if (v.x0 === x0 && v.y0 === y0 && v.x1 === x1 && v.y1 === y1) return;
    v.x0 = x0;
    v.y0 = y0;
    v.x1 = x1;
    v.y1 = y1;
    this.viewChanged = true;
  }

  /** Rectangles drawn at the last commit (those in the view). */
  get drawnCount(): number {
    return Math.max(0, this.culled);
  }

  /** Uploads what changed, up to `count` rectangles; returns whether anything did. */
  commit(): boolean {
    const changed = this.positionsDirty || this.colorsDirty || this.viewChanged || this.culled < 0 || this.count !== this.counted;
    if (this.moved || this.viewChanged || this.culled < 0 || this.count !== this.counted) this.cull();
    // Only the range of rectangles that changed goes to the GPU.
    if (this.positionsDirty) this.positionBuffer.update((this.posHi - this.posLo + 1) * 32, this.posLo * 32);
    if (this.colorsDirty) this.colorBuffer.update((this.colHi - this.colLo + 1) * 16, this.colLo * 16);
    this.positionsDirty = this.colorsDirty = this.viewChanged = this.moved = false;
    this.posLo = this.colLo = Infinity;
    this.posHi = this.colHi = -1;
    this.counted = this.count;
    // A batch with nothing to draw is skipped.
    const visible = this.culled > 0;
    if (this.mesh.visible !== visible) this.mesh.visible = visible;
    return changed;
  }

  /**
   * Rebuilds the index buffer from the rectangles that meet the view, in order. A
   * software rasterizer pays for every triangle it is given, even one it then clips
   * away entirely, and most of a large datacenter lies outside the view.
   */
  private cull(): void {
    const p = this.positions;
    const out = this.indices;
    const { x0, y0, x1, y1 } = this.view;
    let k = 0;
    for (let i = 0; i < this.count; i++) {
      const o = 8 * i;
      if (p[o + 2] < x0 || p[o] > x1 || p[o + 5] < y0 || p[o + 1] > y1) continue;
      const v = 4 * i;
      const j = 6 * k++;
      out[j] = v;
      out[j + 1] = v + 1;
      out[j + 2] = v + 2;
      out[j + 3] = v;
      out[j + 4] = v + 2;
      out[j + 5] = v + 3;
    }
    this.culled = k;
    this.mesh.geometry.indexCount = Math.max(1, k) * 6;
    this.indexBuffer.update(Math.max(1, k) * 24);
  }
}
