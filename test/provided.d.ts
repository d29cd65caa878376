declare module 'vitest' {
  export interface ProvidedContext {
    fakeDashScopeUrl: string
    silentUpstreamUrl: string
  }
}
export {}
