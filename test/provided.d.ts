declare module 'vitest' {
  export interface ProvidedContext {
    fakeDashScopeUrl: string
    silentUpstreamUrl: string
    databases: { wsProxy: string; urls: Record<string, string> }
    /** How the database suites reach Postgres in this project (vitest.config.ts). */
    databaseWay?: 'neon' | 'hyperdrive'
    /** The local identity provider's JWKS (test/setup/jwks-server.ts) and its private signing keys. */
    jwks: { url: string; keys: Record<string, JsonWebKey & { alg: 'RS256' | 'ES256'; kid: string }> }
  }
}
export {}
