// Runs in Node before the workerd test pool starts: the real local servers the tests talk to.
import type { TestProject } from 'vitest/node'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startFakeDashScope } from '../tools/fake-dashscope/server.mjs'
import { longModelAnswers } from './fixtures/long-model-answers'
import { startTestDatabases } from './setup/databases'
import { startJwksServer } from './setup/jwks-server'
import { startMutePostgres } from './setup/mute-postgres'
import { startSilentServer } from './setup/silent-server'

export default async function setup(project: TestProject) {
  const fake = await startFakeDashScope({ apiKey: 'test-key', answers: longModelAnswers() })
  project.provide('fakeDashScopeUrl', fake.url)
  const silent = await startSilentServer()
  project.provide('silentUpstreamUrl', silent.url)
  const jwks = await startJwksServer()
  project.provide('jwks', { url: jwks.url, keys: jwks.keys })
  const databases = await startTestDatabases()
  const mute = await startMutePostgres()
  project.provide('databases', {
    wsProxy: databases.wsProxy,
    urls: {
      ...databases.urls,
      /** Logs in, then never answers a query. */
      mute: `postgres://postgres:postgres@127.0.0.1:${mute.port}/postgres`,
      /** Accepts the connection and never answers at all. */
      silent: `postgres://u:p@127.0.0.1:${new URL(silent.url).port}/db`,
      /** Nothing listens there. */
      dead: databases.deadUrl,
    },
  })
  return async () => {
    await mute.close()
    await databases.close()
    await silent.close()
    await fake.close()
    await jwks.close()
  }
}
