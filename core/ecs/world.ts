// The simulation world: bitecs entities plus structure-of-arrays component stores.
//
// A component is *defined* once at module level (`defineComponent`) with a typed,
// documented field per property, and *instantiated* per world, because several
// simulations may share one process (tests, the matrix runner's workers). A store
// holds one typed array per field, indexed by entity id, and grows (doubling) when
// an entity id passes its capacity; systems therefore fetch the store once per run
// (`world.store(Host)`) and index its arrays, never keep an array across ticks.
//
// bitecs tracks which entity has which component (the store object is the bitecs
// component reference); `world.query()` caches entity lists per component set and
// recomputes them only after a structural change, in ascending id order so that
// iteration order is identical after a snapshot is restored.

import {
  addComponent,
  addEntity,
  createEntityIndex,
  createWorld,
  hasComponent,
  query as bitQuery,
  removeComponent,
  removeEntity,
  type World,
} from 'bitecs';

type EntityIndex = ReturnType<typeof createEntityIndex>;

export type FieldType = 'f64' | 'f32' | 'i32' | 'u32' | 'i16' | 'u16' | 'i8' | 'u8';

export interface FieldSpec {
  readonly type: FieldType;
  /** Unit of the value (bytes, ns, Hz, bit/s, pages, count, ratio, eid …). */
  readonly unit?: string;
  readonly description: string;
}

export type FieldSpecs = Record<string, FieldSpec>;

export interface ComponentDef<F extends FieldSpecs = FieldSpecs> {
  readonly name: string;
  readonly description: string;
  readonly fields: F;
}

type ArrayFor<T extends FieldType> = T extends 'f64'
  ? Float64Array
  : T extends 'f32'
    ? Float32Array
    : T extends 'i32'
      ? Int32Array
      : T extends 'u32'
        ? Uint32Array
        : T extends 'i16'
          ? Int16Array
          : T extends 'u16'
            ? Uint16Array
            : T extends 'i8'
              ? Int8Array
              : Uint8Array;

/** A component's per-world storage: one typed array per field, indexed by entity. */
export type Store<F extends FieldSpecs> = { [K in keyof F]: ArrayFor<F[K]['type']> };

const CTORS = {
  f64: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  i16: Int16Array,
  u16: Uint16Array,
  i8: Int8Array,
  u8: Uint8Array,
} as const;

type AnyTyped = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/** Declares a component. Call at module level; stores are created per world. */
export function defineComponent<F extends FieldSpecs>(name: string, description: string, fields: F): ComponentDef<F> {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) throw new Error(`component name '${name}' must be PascalCase`);
  return Object.freeze({ name, description, fields: Object.freeze(fields) });
}

export interface WorldSnapshot {
  index: { aliveCount: number; dense: number[]; sparse: number[]; maxId: number };
  capacity: number;
  components: Record<string, { members: number[]; fields: Record<string, AnyTyped> }>;
}

const INITIAL_CAPACITY = 256;

export class SimWorld {
  /** The underlying bitecs world; prefer this class's methods. */
  readonly ecs: World;
  private readonly index: EntityIndex;
  private readonly stores = new Map<ComponentDef, Store<FieldSpecs>>();
  private readonly defsByName = new Map<string, ComponentDef>();
  private readonly queryCache = new Map<string, { version: number; list: number[] }>();
  private capacityValue = INITIAL_CAPACITY;
  /** Incremented on every structural change (entity or component added or removed). */
  version = 0;

  constructor() {
    this.index = createEntityIndex();
    this.ecs = createWorld(this.index);
  }

  get capacity(): number {
    return this.capacityValue;
  }

  /** The store of a component in this world, created on first use. */
  store<F extends FieldSpecs>(def: ComponentDef<F>): Store<F> {
    let s = this.stores.get(def);
    if (!s) {
      const other = this.defsByName.get(def.name);
      if (other && other !== def) throw new Error(`two different components are named '${def.name}'`);
      s = {} as Store<FieldSpecs>;
      for (const [field, spec] of Object.entries(def.fields)) {
        (s as Record<string, AnyTyped>)[field] = new CTORS[spec.type](this.capacityValue);
      }
      this.stores.set(def, s);
      this.defsByName.set(def.name, def);
    }
    return s as Store<F>;
  }

  /** Every component defined in this world so far, by name. */
  components(): ComponentDef[] {
    return [...this.defsByName.values()];
  }

  /** Creates an entity with the given components (fields zeroed). */
  spawn(...defs: ComponentDef[]): number {
    const eid = addEntity(this.ecs);
    if (eid >= this.capacityValue) this.grow(eid + 1);
    for (const def of defs) this.add(eid, def);
    this.version++;
    return eid;
  }

  /** Removes an entity; its fields keep stale values until the id is reused. */
  despawn(eid: number): void {
    for (const s of this.stores.values()) if (hasComponent(this.ecs, eid, s)) this.zero(s, eid);
    removeEntity(this.ecs, eid);
    this.version++;
  }

  add<F extends FieldSpecs>(eid: number, def: ComponentDef<F>): Store<F> {
    const s = this.store(def);
    if (!hasComponent(this.ecs, eid, s)) {
      this.zero(s, eid);
      addComponent(this.ecs, eid, s);
      this.version++;
    }
    return s;
  }

  remove(eid: number, def: ComponentDef): void {
    const s = this.store(def);
    if (hasComponent(this.ecs, eid, s)) {
      removeComponent(this.ecs, eid, s);
      this.version++;
    }
  }

  has(eid: number, def: ComponentDef): boolean {
    const s = this.stores.get(def);
    return s !== undefined && hasComponent(this.ecs, eid, s);
  }

  /**
   * Entities having every listed component, in ascending id order. The array is
   * cached until the next structural change: do not mutate it.
   */
  query(defs: readonly ComponentDef[]): readonly number[] {
    const key = defs.map((d) => d.name).join('&');
    const hit = this.queryCache.get(key);
    if (hit && hit.version === this.version) return hit.list;
    const stores = defs.map((d) => this.store(d));
    const list = Array.from(bitQuery(this.ecs, stores)).sort((a, b) => a - b);
    this.queryCache.set(key, { version: this.version, list });
    return list;
  }

  private zero(s: Store<FieldSpecs>, eid: number): void {
    for (const arr of Object.values(s)) arr[eid] = 0;
  }

  private grow(minCapacity: number): void {
    let cap = this.capacityValue;
    while (cap < minCapacity) cap *= 2;
    for (const s of this.stores.values()) {
      const rec = s as Record<string, AnyTyped>;
      for (const field of Object.keys(rec)) {
        const old = rec[field];
        const next = new (old.constructor as { new (n: number): AnyTyped })(cap);
        next.set(old);
        rec[field] = next;
      }
    }
    this.capacityValue = cap;
  }

  /** Pre-sizes every store for `n` entities, to avoid repeated growth at boot. */
  reserve(n: number): void {
    if (n + 1 > this.capacityValue) this.grow(n + 1);
  }

  /** A deep copy of the entity index, the membership and every field. */
  snapshot(): WorldSnapshot {
    const idx = this.index;
    const components: WorldSnapshot['components'] = {};
    const limit = idx.maxId + 1;
    for (const [def, s] of [...this.stores.entries()].sort((a, b) => (a[0].name < b[0].name ? -1 : 1))) {
      const members: number[] = [];
      for (let i = 0; i < idx.aliveCount; i++) {
        const eid = idx.dense[i];
        if (hasComponent(this.ecs, eid, s)) members.push(eid);
      }
      members.sort((a, b) => a - b);
      const fields: Record<string, AnyTyped> = {};
      for (const [f, arr] of Object.entries(s as Record<string, AnyTyped>)) fields[f] = arr.slice(0, limit);
      components[def.name] = { members, fields };
    }
    return {
      index: { aliveCount: idx.aliveCount, dense: idx.dense.slice(), sparse: idx.sparse.slice(), maxId: idx.maxId },
      capacity: this.capacityValue,
      components,
    };
  }

  /**
   * Replaces this world's entities and fields with a snapshot's. Components named in
   * the snapshot must have been defined in this world (a booted simulation of the
   * same scenario defines them all).
   */
  restore(snap: WorldSnapshot): void {
    for (const eid of this.index.dense.slice(0, this.index.aliveCount) as number[]) removeEntity(this.ecs, eid);
    const idx = this.index;
    idx.dense = snap.index.dense.slice();
    idx.sparse = snap.index.sparse.slice();
    idx.maxId = snap.index.maxId;
    idx.aliveCount = 0;
    // addEntity recycles dense[aliveCount] in order, which rebuilds the exact index.
    for (let i = 0; i < snap.index.aliveCount; i++) addEntity(this.ecs);
    if (snap.capacity > this.capacityValue) this.grow(snap.capacity);
    for (const [name, data] of Object.entries(snap.components)) {
      const def = this.defsByName.get(name);
      if (!def) throw new Error(`snapshot has component '${name}', which this simulation does not define`);
      const s = this.store(def) as Record<string, AnyTyped>;
      for (const [f, arr] of Object.entries(data.fields)) {
        s[f].fill(0);
        s[f].set(arr);
      }
      for (const eid of data.members) addComponent(this.ecs, eid, s);
    }
    this.version++;
  }
}
