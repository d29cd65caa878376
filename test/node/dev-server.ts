export { freePort, startDevServer } from '../../scripts/start-dev-server.mjs'
export type DevServer = Awaited<ReturnType<typeof import('../../scripts/start-dev-server.mjs').startDevServer>>
