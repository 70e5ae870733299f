// The visualizer's labels, drawn in screen space at a fixed, legible size whatever the
// zoom, and placed so that no two overlap: each label names an anchor in a pane's world
// and the sides of it where it may go; labels are placed in order of priority (titles,
// then switches and racks, then decisions, then transfers, then hosts and links), each
// at the first of its sides where it meets no label placed before it, and left out
// where none is free. What is left out is still in the side panel (details, events).
// Labels that ask to (transfers, decisions) also keep clear of the scene's tiles: the
// host boxes with their VM tiles and the travelling tiles, passed as obstacles.
// The placement is redone only when the view or a label's text changed. Labels of the
// kinds named `still` (those that move only with the view: switches, racks, hosts) are
// drawn as bitmap text in a container of their own, which the page puts on the WebGL
// layer it redraws seldom; `stillChanged` says whether one of them changed at the last
// placement. The others (transfers, decisions) are listed in `moving`, for the page's
// overlay to draw (tools/view/overlay.ts).

import { BitmapFont, BitmapText, Container } from 'pixi.js';

export const FONT = 'virtlab-mono';
/** The font's glyphs are drawn at this size; a label's width is its length times the advance, scaled. */
const GLYPH_SIZE = 24;

/** Where a label may go relative to its anchor. */
export type Side = 'right' | 'left' | 'above' | 'below' | 'above-left' | 'below-left' | 'at';

export interface LabelRequest {
  text: string;
  /** Anchor in the pane's world coordinates. */
  x: number;
  y: number;
  /** Screen pixels. */
  size: number;
  tint: number;
  /** Lower goes first. */
  priority: number;
  /** Sides to try, in order. */
  sides: readonly Side[];
  /** A short name of what it labels (for inspection): 'title', 'rack', 'host', 'transfer', 'decision' … */
  kind: string;
  alpha?: number;
  /** A label that must be shown even where it meets others (a pane's title). */
  must?: boolean;
  /** Keep clear of the obstacles (tiles) too, not only of other labels. */
  avoid?: boolean;
}

/** A rectangle in canvas pixels. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A placed label, in canvas pixels. */
export interface PlacedLabel {
  readonly text: string;
  readonly kind: string;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

let fontInstalled = false;
let advance = 0.6;
export function installFont(): void {
  if (fontInstalled) return;
  fontInstalled = true;
  // Drawn white, tinted per label.
  BitmapFont.install({ name: FONT, style: { fontFamily: 'monospace', fontSize: GLYPH_SIZE, fill: 0xffffff }, chars: [[' ', '~'], '→↑·×–%…'], resolution: 1 });
  const probe = new BitmapText({ text: 'MMMMMMMMMM', style: { fontFamily: FONT, fontSize: GLYPH_SIZE } });
  advance = probe.width / 10 / GLYPH_SIZE || 0.6;
  probe.destroy();
}

/** Width of a label in pixels at a size. */
export const labelWidth = (text: string, size: number) => Math.ceil(text.length * advance * size) + 1;

const GAP = 3;
/** Rows above and below its anchor where a label that avoids tiles may go when no side is free. */
const NEARBY_ROWS = 8;

/** A label of a moving kind as placed: canvas pixels, top-left. */
export interface MovingLabel {
  text: string;
  x: number;
  y: number;
  size: number;
  tint: number;
  alpha: number;
}

export class LabelLayer {
  /** The labels of the still kinds. */
  readonly still = new Container();
  private readonly pool: BitmapText[] = [];
  private used = 0;
  placed: PlacedLabel[] = [];
  /** The labels of the other kinds, as placed last. */
  moving: MovingLabel[] = [];
  private fixed: readonly Box[] | undefined;
  private fixedGrid: ((b: Box) => boolean) | undefined;
  /** The requests of the last placement, to tell whether anything changed; and of its still labels alone. */
  private signature = '';
  private stillSignature = '';
  stillChanged = false;

  constructor(private readonly stillKinds: ReadonlySet<string> = new Set()) {
    installFont();
  }

  /**
   * Places the requests, anchors mapped to the canvas by `toScreen`, within a canvas of
   * width × height, clear of the obstacles (those that move) and of the fixed ones (a new
   * array when they changed); returns whether anything changed.
   */
  place(requests: LabelRequest[], toScreen: (r: LabelRequest, out: number[]) => void, width: number, height: number, obstacles: readonly Box[] = [], fixed: readonly Box[] = []): boolean {
    const xy = [0, 0];
    // The obstacles move only with the view or with a transfer's tile, and either moves a label's anchor too.
    let sig = `${width}x${height}|${obstacles.length}|${fixed.length}|`;
    for (const r of requests) {
      toScreen(r, xy);
      sig += `${r.text}@${xy[0] | 0},${xy[1] | 0},${r.alpha ?? 1};`;
    }
    this.stillChanged = false;
    if (sig === this.signature) return false;
    this.signature = sig;
    requests.sort((a, b) => a.priority - b.priority);
    const boxes: PlacedLabel[] = [];
    let blocked: ((b: Box) => boolean) | undefined;
    if (requests.some((r) => r.avoid)) {
      // The fixed obstacles (the host boxes) change only with the view: their grid is kept while the caller passes the same array.
      if (fixed !== this.fixed) {
        this.fixed = fixed;
        this.fixedGrid = obstacleGrid(fixed);
      }
      const moving = obstacleGrid(obstacles);
      const still = this.fixedGrid!;
      blocked = (b) => still(b) || moving(b);
    }
    let stillSig = '';
    this.used = 0;
    const moving: MovingLabel[] = [];
    for (const r of requests) {
      toScreen(r, xy);
      const w = labelWidth(r.text, r.size);
      const h = r.size + 2;
      let spot: PlacedLabel | undefined;
      for (const side of r.sides) {
        const [x, y] = offset(side, xy[0], xy[1], w, h);
        const box = { text: r.text, kind: r.kind, x: Math.round(x), y: Math.round(y), w, h };
        // On the canvas, whole, and clear of every label placed before.
        if (box.x < 0 || box.y < 0 || box.x + w > width || box.y + h > height) continue;
        if (boxes.some((b) => overlaps(b, box))) continue;
        if (r.avoid && blocked?.(box)) continue;
        spot = box;
        break;
      }
      // A label that keeps clear of tiles and finds no side free takes the nearest free
      // row above or below, beside its anchor (transfers run along links between hosts:
      // the gaps between host boxes are a few rows away).
      for (let i = 1; !spot && r.avoid && i <= 2 * NEARBY_ROWS; i++) {
        const dy = (i % 2 ? 1 : -1) * Math.ceil(i / 2) * (h + 1);
        for (const x of [xy[0] + GAP, xy[0] - GAP - w]) {
          const box = { text: r.text, kind: r.kind, x: Math.round(x), y: Math.round(xy[1] - h / 2 + dy), w, h };
          if (box.x < 0 || box.y < 0 || box.x + w > width || box.y + h > height) continue;
          if (boxes.some((b) => overlaps(b, box)) || blocked?.(box)) continue;
          spot = box;
          break;
        }
      }
      if (!spot && r.must) {
        const [x, y] = offset(r.sides[0], xy[0], xy[1], w, h);
        spot = { text: r.text, kind: r.kind, x: Math.max(0, Math.round(x)), y: Math.max(0, Math.round(y)), w, h };
      }
      if (!spot) continue;
      boxes.push(spot);
      if (!this.stillKinds.has(r.kind)) {
        moving.push({ text: r.text, x: spot.x, y: spot.y, size: r.size, tint: r.tint, alpha: r.alpha ?? 1 });
        continue;
      }
      stillSig += `${r.text}@${spot.x},${spot.y},${r.size},${r.tint},${r.alpha ?? 1};`;
      const t = this.take();
      if (t.text !== r.text) t.text = r.text;
      t.style.fontSize = r.size;
      t.tint = r.tint;
      t.alpha = r.alpha ?? 1;
      t.x = spot.x;
      t.y = spot.y;
    }
    for (let i = this.used; i < this.pool.length; i++) this.pool[i].visible = false;
    this.placed = boxes;
    this.moving = moving;
    this.stillChanged = stillSig !== this.stillSignature;
    this.stillSignature = stillSig;
    return true;
  }

  /** A bitmap text for a still label, from the pool. */
  private take(): BitmapText {
    let t = this.pool[this.used];
    if (!t) {
      t = new BitmapText({ text: '', style: { fontFamily: FONT, fontSize: 10 } });
      this.pool.push(t);
      this.still.addChild(t);
    }
    this.used++;
    t.visible = true;
    return t;
  }
}

const CELL = 64;

/**
 * Whether a box meets an obstacle, through a grid of CELL-pixel cells: a fitted scene of
 * 1,000 hosts has 1,000 host boxes, and each label tries several sides every time the
 * labels are placed.
 */
function obstacleGrid(obstacles: readonly Box[]): (b: Box) => boolean {
  const cells = new Map<number, Box[]>();
  const key = (cx: number, cy: number) => cx * 65536 + cy;
  for (const o of obstacles) {
    for (let cx = Math.floor(o.x / CELL); cx <= Math.floor((o.x + o.w) / CELL); cx++) {
      for (let cy = Math.floor(o.y / CELL); cy <= Math.floor((o.y + o.h) / CELL); cy++) {
        const k = key(cx, cy);
        const list = cells.get(k);
        if (list) list.push(o);
        else cells.set(k, [o]);
      }
    }
  }
  return (b) => {
    for (let cx = Math.floor(b.x / CELL); cx <= Math.floor((b.x + b.w) / CELL); cx++) {
      for (let cy = Math.floor(b.y / CELL); cy <= Math.floor((b.y + b.h) / CELL); cy++) {
        const list = cells.get(key(cx, cy));
        if (list && list.some((o) => overlaps(o, b))) return true;
      }
    }
    return false;
  };
}

function offset(side: Side, x: number, y: number, w: number, h: number): [number, number] {
  switch (side) {
    case 'right':
      return [x + GAP, y - h / 2];
    case 'left':
      return [x - GAP - w, y - h / 2];
    case 'above':
      return [x, y - h - 1];
    case 'below':
      return [x, y + 1];
    case 'above-left':
      return [x - w, y - h - 1];
    case 'below-left':
      return [x - w, y + 1];
    case 'at':
      return [x, y];
  }
}

/** Whether two boxes share any pixel (a one-pixel margin keeps neighbours apart). */
export function overlaps(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): boolean {
  return a.x < b.x + b.w + 1 && b.x < a.x + a.w + 1 && a.y < b.y + b.h && b.y < a.y + a.h;
}
