declare module 'vitest' {
  export interface ProvidedContext {
    fakeDashScopeUrl: string
    silentUpstreamUrl: string
    databases: { wsProxy: string; urls: Record<string, string> }
    /** How the database suites reach Postgres in this project (vitest.config.ts). */
    databaseWay?: 'neon' | 'hyperdrive'
  }
}
export {}
