/**
 * The Hyperdrive bindings the worker reads when its configuration has them: `HYPERDRIVE` (the
 * business database) and `HYPERDRIVE_READONLY` (the read-only role that checks and runs model SQL;
 * `HYPERDRIVE` when absent). They are not in wrangler.toml — a binding needs the id of a Hyperdrive
 * configuration in the user's account — so the configuration `npm start` and `npm run deploy`
 * derive adds them when the Hyperdrive way is chosen (scripts/database-route.mjs). Declared here,
 * once, like the secrets: config.ts types them, the scripts and the settings test read this list.
 * Plain erasable TypeScript, so Node imports this file as it is.
 */
export const HYPERDRIVE_BINDINGS = ['HYPERDRIVE', 'HYPERDRIVE_READONLY'] as const

export type HyperdriveBindingName = (typeof HYPERDRIVE_BINDINGS)[number]
