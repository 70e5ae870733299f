// Service tokens: a typed key per strategy or service that plugins provide and
// consume through the registry. Each token is paired with an interface of the same
// name (Theia's convention), e.g. `Placement` the token and `Placement` the type.
// Strategies are resolved once at boot and then called directly on hot paths.

/** A typed key for a service in a simulation's container. */
export interface ServiceToken<T> {
  readonly id: symbol;
  readonly name: string;
  /** Phantom field carrying the service type; never set. */
  readonly __type?: T;
}

/** Creates a token. Use one module-level constant per service. */
export function token<T>(name: string): ServiceToken<T> {
  return Object.freeze({ id: Symbol.for(`virtlab:${name}`), name });
}
