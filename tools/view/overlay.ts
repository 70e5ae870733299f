// The visualizer's overlay: what moves above the WebGL base layer — travelling tiles,
// their progress, method-switch rings, and the labels of transfers and decisions —
// drawn on a plain 2D canvas. The overlay changes on every animation frame while tiles
// travel, and holds a few hundred small rectangles and a few dozen labels. Where WebGL
// runs in software and the browser composites in software (headless Chromium), a
// WebGL canvas is read back from the GPU process on every frame it changes, and the
// page's main thread waits for that in each frame's commit; a 2D canvas is rasterized
// in the page's own process, so a frame of the overlay waits for no other process.
//
// Rectangles are snapped to whole pixels the way WebGL without multisampling fills
// them (the pixels whose centres lie inside), so the overlay looks as it did when it
// was a WebGL layer: no blended edges.

import type { QuadBatch } from './quad-batch';
import type { MovingLabel } from './labels';

export class Overlay {
  readonly canvas = document.createElement('canvas');
  private readonly g: CanvasRenderingContext2D;
  /** CSS pixels of the canvas, and backing pixels per CSS pixel. */
  width = 0;
  height = 0;
  private resolution = 1;
  /** CSS colours of packed RGBA8 colours (QuadBatch's), and of label tints. */
  private readonly colors = new Map<number, string>();
  private readonly tints = new Map<number, string>();
  /** The area drawn last (backing pixels), cleared before the next drawing. */
  private dirty = { x0: 0, y0: 0, x1: 0, y1: 0 };

  constructor() {
    this.canvas.style.position = 'absolute';
    this.canvas.style.left = this.canvas.style.top = '0';
    this.g = this.canvas.getContext('2d')!;
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
    this.dirty = { x0: 0, y0: 0, x1: this.canvas.width, y1: this.canvas.height };
  }

  /**
   * Draws the batches (each at its pane's offset, through the scene's translation and
   * zoom) and then the labels (canvas pixels), in place of what was drawn before.
   */
  draw(batches: ReadonlyArray<{ batch: QuadBatch; offsetX: number; offsetY: number }>, sceneX: number, sceneY: number, zoom: number, labels: readonly MovingLabel[]): void {
    const g = this.g;
    const r = this.resolution;
    const d = this.dirty;
    // Only the area drawn last is cleared: a software rasterizer pays for every pixel.
    if (d.x1 > d.x0 && d.y1 > d.y0) g.clearRect(d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0);
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    const W = this.canvas.width;
    const H = this.canvas.height;
    g.globalAlpha = 1;
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
        g.fillStyle = this.css(color);
        g.fillRect(ax, ay, bx - ax, by - ay);
        if (ax < x0) x0 = ax;
        if (ay < y0) y0 = ay;
        if (bx > x1) x1 = bx;
        if (by > y1) y1 = by;
      }
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
  }

  /** The CSS colour of a packed RGBA8 colour (red in the low byte). */
  private css(c: number): string {
    let s = this.colors.get(c);
    if (!s) this.colors.set(c, (s = `rgba(${c & 255},${(c >>> 8) & 255},${(c >>> 16) & 255},${((c >>> 24) / 255).toFixed(3)})`));
    return s;
  }
}
