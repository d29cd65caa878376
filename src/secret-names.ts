/**
 * The secrets the worker reads. Vars have their names and defaults in wrangler.toml's [vars];
 * secrets are kept out of that file, so their names are declared here, once: config.ts types
 * them from this list and `npm start` (scripts/dev/settings.mjs) passes each from the environment.
 * Plain erasable TypeScript, so Node imports this file as it is.
 */
export const SECRET_NAMES = ['DASHSCOPE_API_KEY', 'API_KEYS', 'ADMIN_TOKEN', 'DATABASE_URL', 'DATABASE_URL_READONLY', 'JWT_SECRET', 'DB_ROLE_URLS'] as const

export type SecretName = (typeof SECRET_NAMES)[number]
