import { AppError } from '../../errors'

/**
 * Stands in for the database driver a build leaves out (wrangler.toml `[alias]`): the default
 * build carries only the Neon driver, the Hyperdrive build (scripts/database-route.mjs) only
 * node-postgres — both together would not fit the bundle budget (BENCHMARKS.md, P7). Reached only
 * when bindings and build disagree, e.g. a `[[hyperdrive]]` binding added to wrangler.toml by hand.
 */
export class Client {
  constructor() {
    throw new AppError(500, 'server_misconfigured', 'This Worker was built without the driver its database bindings need: deploy with `npm run deploy` (or start with `npm start`), which build the Hyperdrive way with node-postgres and the default way with the Neon driver (docs/DATABASE.md)')
  }
}
