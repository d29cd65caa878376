export function freePort(): Promise<number>
export function startDevServer(env?: Record<string, string | undefined>): Promise<{ url: string; pid: number; stateDir: string; output: () => string; stop: () => Promise<void> }>
