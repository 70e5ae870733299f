// The visualizer's one presented canvas: an opaque 2D canvas that holds the base layer's
// pixels (switches, hosts, links, VM tiles, rendered with WebGL into a canvas that is
// not on the page) and draws above them what moves — travelling tiles, their progress,
// method-switch rings, and the labels of transfers and decisions. The overlay changes on
// every animation frame while tiles travel, and holds a few hundred small rectangles and
// a few dozen labels; the base changes seldom.
//
// Why one opaque 2D canvas: where WebGL runs in software and the browser composites in
// software (headless Chromium with SwiftShader), the display compositor draws the
// page's layers again on every frame: a WebGL canvas with a transparent canvas blended
// over it cost it 5–6 ms of CPU per frame at 1240×936 pixels, one opaque 2D canvas
// 0.1–0.4 ms (Chrome traces of `npm run bench:view`, DirectRenderer::DrawRenderPass). So the
// base's pixels are copied once, when WebGL rendered them (`setBase`, a read-back from
// the GPU process), into a cached bitmap; a frame in which only the overlay changed puts
// back the cached pixels under what it drew last and draws the overlay anew, all in the
// page's own process, and the compositor gets one opaque layer.
//
// Rectangles are snapped to whole pixels the way WebGL without multisampling fills
// them (the pixels whose centres lie inside), so the overlay looks as it did when it
// was a WebGL layer: no blended edges.

import type { QuadBatch } from './quad-batch';
import type { MovingLabel } from './labels';

export class Overlay {
  readonly canvas = document.createElement('canvas');
  private readonly g: CanvasRenderingContext2D;
  /** The base layer's pixels as rendered last, to put back where the overlay was. */
  private readonly base = document.createElement('canvas');
  private readonly baseG: CanvasRenderingContext2D;
  /** The base changed (or the canvas was resized): the next drawing starts from all of it. */
  private baseFresh = true;
  /** CSS pixels of the canvas, and backing pixels per CSS pixel. */
  width = 0;
  height = 0;
  private resolution = 1;
  /** CSS colours of packed RGBA8 colours (QuadBatch's), and of label tints. */
  private readonly colors = new Map<number, string>();
  private readonly tints = new Map<number, string>();
  /** The area drawn last (backing pixels), put back from the base before the next drawing. */
  private dirty = { x0: 0, y0: 0, x1: 0, y1: 0 };
  /** The overlay's rectangles in canvas pixels (x0, y0, x1, y1, packed colour), about to be drawn and drawn last, and its labels as drawn last. */
  private rects = new Int32Array(0);
  private drawnRects = new Int32Array(0);
  private drawnCount = -1;
  private readonly drawnLabels: MovingLabel[] = [];

  /** `background`: 0xRRGGBB, what the canvas shows before the base is first rendered. */
  constructor(private readonly background: number) {
    this.canvas.style.position = 'absolute';
    this.canvas.style.left = this.canvas.style.top = '0';
    // Opaque: the compositor copies the layer instead of blending it over what lies behind.
    this.g = this.canvas.getContext('2d', { alpha: false })!;
    this.baseG = this.base.getContext('2d', { alpha: false })!;
  }

  /** Sizes the canvas to width × height CSS pixels at `resolution` backing pixels each. */
  resize(width: number, height: number, resolution: number): void {
    if (width === this.width && height === this.height && resolution === this.resolution) return;
    this.width = width;
    this.height = height;
    this.resolution = resolution;
    this.canvas.width = Math.round(width * resolution);
    this.canvas.height = Math.round(height * resolution);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.base.width = this.canvas.width;
    this.base.height = this.canvas.height;
    // Resizing clears both; until the base is rendered again they show the background.
    this.baseG.fillStyle = `#${this.background.toString(16).padStart(6, '0')}`;
    this.baseG.fillRect(0, 0, this.base.width, this.base.height);
    this.baseFresh = true;
  }

  /**
   * Takes the base layer's pixels, just rendered into `source` (a canvas the size of this
   * one): the next drawing starts from them. Called only when the base changed.
   */
  setBase(source: CanvasImageSource): void {
    this.baseG.drawImage(source, 0, 0);
    this.baseFresh = true;
  }

  /**
   * Draws the batches (each at its pane's offset, through the scene's translation and
   * zoom) and then the labels (canvas pixels) over the base, in place of what was drawn
   * before. Called whenever the base or the overlay changed; returns false, drawing
   * nothing, when the base did not change and the overlay would cover the same pixels
   * in the same colours as before (tiles that moved less than a pixel): the page then
   * presents no new frame.
   */
  draw(batches: ReadonlyArray<{ batch: QuadBatch; offsetX: number; offsetY: number }>, sceneX: number, sceneY: number, zoom: number, labels: readonly MovingLabel[]): boolean {
    const r = this.resolution;
    const W = this.canvas.width;
    const H = this.canvas.height;
    // The rectangles in canvas pixels, as they will be filled.
    let n = 0;
    for (const { batch } of batches) n += batch.count;
    if (this.rects.length < 5 * n) {
      this.rects = new Int32Array(10 * n);
      this.drawnRects = new Int32Array(10 * n);
      this.drawnCount = -1;
    }
    const rects = this.rects;
    let count = 0;
    for (const { batch, offsetX, offsetY } of batches) {
      const p = batch.positions;
      const c = batch.colors;
      const ox = (sceneX + offsetX * zoom) * r;
      const oy = (sceneY + offsetY * zoom) * r;
      const k = zoom * r;
      for (let i = 0; i < batch.count; i++) {
        const o = 8 * i;
        // Corners 0 (top-left) and 2 (bottom-right) of the rectangle.
        const ax = Math.round(ox + p[o] * k);
        const ay = Math.round(oy + p[o + 1] * k);
        const bx = Math.round(ox + p[o + 4] * k);
        const by = Math.round(oy + p[o + 5] * k);
        if (bx <= ax || by <= ay || bx <= 0 || by <= 0 || ax >= W || ay >= H) continue;
        const color = c[4 * i];
        if (color >>> 24 === 0) continue;
        const q = 5 * count++;
        rects[q] = ax;
        rects[q + 1] = ay;
        rects[q + 2] = bx;
        rects[q + 3] = by;
        rects[q + 4] = color;
      }
    }
    if (!this.baseFresh && this.same(count, labels)) return false;
    this.keep(count, labels);

    const g = this.g;
    const d = this.dirty;
    // Only the area drawn last is put back from the base, unless the base changed: a
    // software rasterizer pays for every pixel.
    if (this.baseFresh) g.drawImage(this.base, 0, 0);
    else if (d.x1 > d.x0 && d.y1 > d.y0) g.drawImage(this.base, d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0, d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0);
    this.baseFresh = false;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    g.globalAlpha = 1;
    for (let q = 0; q < 5 * count; q += 5) {
      const ax = rects[q];
      const ay = rects[q + 1];
      const bx = rects[q + 2];
      const by = rects[q + 3];
      g.fillStyle = this.css(rects[q + 4] >>> 0);
      g.fillRect(ax, ay, bx - ax, by - ay);
      if (ax < x0) x0 = ax;
      if (ay < y0) y0 = ay;
      if (bx > x1) x1 = bx;
      if (by > y1) y1 = by;
    }
    g.textBaseline = 'top';
    let font = '';
    for (const l of labels) {
      const f = `${l.size * r}px monospace`;
      if (f !== font) g.font = font = f;
      let tint = this.tints.get(l.tint);
      if (!tint) this.tints.set(l.tint, (tint = `#${l.tint.toString(16).padStart(6, '0')}`));
      g.fillStyle = tint;
      g.globalAlpha = l.alpha;
      const w = g.measureText(l.text).width;
      g.fillText(l.text, l.x * r, l.y * r);
      x0 = Math.min(x0, Math.floor(l.x * r));
      y0 = Math.min(y0, Math.floor(l.y * r));
      x1 = Math.max(x1, Math.ceil(l.x * r + w) + 1);
      y1 = Math.max(y1, Math.ceil((l.y + l.size + 4) * r));
    }
    g.globalAlpha = 1;
    this.dirty = x1 > x0 ? { x0: Math.max(0, x0 - 1), y0: Math.max(0, y0 - 1), x1: Math.min(W, x1 + 1), y1: Math.min(H, y1 + 1) } : { x0: 0, y0: 0, x1: 0, y1: 0 };
    return true;
  }

  /** Whether the rectangles gathered (`count` of them) and the labels are those drawn last. */
  private same(count: number, labels: readonly MovingLabel[]): boolean {
    if (count !== this.drawnCount || labels.length !== this.drawnLabels.length) return false;
    const a = this.rects;
    const b = this.drawnRects;
    for (let i = 0; i < 5 * count; i++) if (a[i] !== b[i]) return false;
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i];
      const m = this.drawnLabels[i];
      if (l.text !== m.text || l.x !== m.x || l.y !== m.y || l.size !== m.size || l.tint !== m.tint || l.alpha !== m.alpha) return false;
    }
    return true;
  }

  /** Remembers what is about to be drawn, for `same`. */
  private keep(count: number, labels: readonly MovingLabel[]): void {
    this.drawnRects.set(this.rects.subarray(0, 5 * count));
    this.drawnCount = count;
    this.drawnLabels.length = labels.length;
    for (let i = 0; i < labels.length; i++) this.drawnLabels[i] = { ...labels[i] };
  }

  /** The CSS colour of a packed RGBA8 colour (red in the low byte). */
  private css(c: number): string {
    let s = this.colors.get(c);
    if (!s) this.colors.set(c, (s = `rgba(${c & 255},${(c >>> 8) & 255},${(c >>> 16) & 255},${((c >>> 24) / 255).toFixed(3)})`));
    return s;
  }
}
