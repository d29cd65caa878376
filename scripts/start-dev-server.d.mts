export function freePort(): Promise<number>
export function startDevServer(env?: Record<string, string | undefined>, options?: { waitForSchema?: boolean }): Promise<{ url: string; pid: number; output: () => string; stop: () => Promise<void> }>
