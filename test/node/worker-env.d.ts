// src/config.ts names the Worker's generated `Env` and the runtime's `Hyperdrive`
// (worker-configuration.d.ts, Workers runtime types that clash with Node's). The Node tests import
// only the database modules, which need none of their fields: any binding name type-checks here,
// the Workers project checks them for real.
interface Env {
  [name: string]: any
}
interface Hyperdrive {
  readonly connectionString: string
}
