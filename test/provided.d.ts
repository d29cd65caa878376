declare module 'vitest' {
  export interface ProvidedContext {
    fakeDashScopeUrl: string
    silentUpstreamUrl: string
    databases: { wsProxy: string; urls: Record<string, string>; deadUrl: string }
  }
}
export {}
