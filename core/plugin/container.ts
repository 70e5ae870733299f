// The dependency-injection container of one simulation, wrapping inversify. This is
// the only module that imports inversify: plugins use `injectable`/`inject` and the
// PluginApi's `provide`/`get` from here, so the DI library can be replaced without
// touching them.
//
// Per-simulation, never global: every Simulation creates its own container, so two
// simulations in one process (tests, the matrix runner) never share a strategy
// object or its state. Every constructor parameter of an injectable class must
// carry an explicit `@inject(TOKEN)`, because esbuild and tsx drop the decorator
// metadata that inversify would otherwise read.

// In the compiled build, reflect-metadata loads with inversify instead (tools/build/build.js).
import 'reflect-metadata';
import { Container, inject as inversifyInject, injectable as inversifyInjectable } from 'inversify';
import type { ServiceToken } from '../engine/tokens';

/** Marks a class as constructible by the container. */
export function injectable(): ClassDecorator {
  return inversifyInjectable() as ClassDecorator;
}

/** Injects the service of `tok` into a constructor parameter. */
export function inject<T>(tok: ServiceToken<T>): ParameterDecorator {
  return inversifyInject(tok.id) as ParameterDecorator;
}

export type Binding<T> =
  | { readonly useValue: T }
  | { readonly useClass: new (...args: never[]) => T }
  | { readonly useFactory: (get: <U>(t: ServiceToken<U>) => U) => T };

export class ServiceError extends Error {}

export class ServiceContainer {
  /**
   * inversify's container, made for the first class binding: values and factories
   * need none, and making one (which loads inversify) cost more than booting a small
   * simulation did. It then also serves every other binding, so that a class may
   * inject any service.
   */
  private container?: Container;
  private readonly owners = new Map<symbol, string>();
  private readonly bindings = new Map<symbol, { readonly name: string; readonly binding: Binding<unknown> }>();
  /** Resolved services: every binding is a singleton, so systems may look them up per event cheaply. */
  private readonly resolved = new Map<symbol, unknown>();
  /** Factories under way, to name a service whose factory needs itself. */
  private readonly resolving = new Set<symbol>();

  /** Binds a service as a singleton of this simulation; a second binding is refused. */
  provide<T>(tok: ServiceToken<T>, binding: Binding<T>, owner: string): void {
    const prev = this.owners.get(tok.id);
    if (prev !== undefined) {
      throw new ServiceError(`${owner} provides service '${tok.name}', which ${prev} already provides; a simulation has one provider per service`);
    }
    this.owners.set(tok.id, owner);
    this.bindings.set(tok.id, { name: tok.name, binding: binding as Binding<unknown> });
    if ('useClass' in binding) this.classes().bind<T>(tok.id).to(binding.useClass as new (...args: unknown[]) => T).inSingletonScope();
    else this.container?.bind<T>(tok.id).toDynamicValue(() => this.get(tok));
  }

  /** The service of `tok`; throws a clear error naming the token when nobody provides it. */
  get<T>(tok: ServiceToken<T>): T {
    if (this.resolved.has(tok.id)) return this.resolved.get(tok.id) as T;
    if (!this.bindings.has(tok.id)) {
      throw new ServiceError(`no plugin provides service '${tok.name}'; add a plugin that provides it to the scenario`);
    }
    return this.resolve(tok);
  }

  /** The service, or undefined when nobody provides it. */
  tryGet<T>(tok: ServiceToken<T>): T | undefined {
    if (this.resolved.has(tok.id)) return this.resolved.get(tok.id) as T;
    return this.bindings.has(tok.id) ? this.resolve(tok) : undefined;
  }

  private resolve<T>(tok: ServiceToken<T>): T {
    const { binding } = this.bindings.get(tok.id)!;
    let v: unknown;
    if ('useValue' in binding) v = binding.useValue;
    else if ('useClass' in binding) v = this.container!.get<T>(tok.id);
    else {
      if (this.resolving.has(tok.id)) throw new ServiceError(`the factory of service '${tok.name}' needs '${tok.name}' itself`);
      this.resolving.add(tok.id);
      try {
        v = binding.useFactory((t) => this.get(t));
      } finally {
        this.resolving.delete(tok.id);
      }
    }
    this.resolved.set(tok.id, v);
    return v as T;
  }

  /** inversify's container, made on first use with every binding so far. */
  private classes(): Container {
    if (!this.container) {
      const c = new Container();
      for (const [id, { name, binding }] of this.bindings) {
        if (!('useClass' in binding)) c.bind(id).toDynamicValue(() => this.get({ id, name } as ServiceToken<unknown>));
      }
      this.container = c;
    }
    return this.container;
  }

  has(tok: ServiceToken<unknown>): boolean {
    return this.bindings.has(tok.id);
  }

  /** The owner (plugin id) of a service. */
  ownerOf(tok: ServiceToken<unknown>): string | undefined {
    return this.owners.get(tok.id);
  }
}
