#!/usr/bin/env node
// node tools/fake-dashscope/cli.mjs [--port 9999] [--key fake-key]
import { startFakeDashScope } from './server.mjs'

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : fallback
}
const fake = await startFakeDashScope({ port: Number(arg('port', 0)), apiKey: arg('key', 'fake-key'), log: process.argv.includes('--log') })
console.log(`fake-dashscope listening on ${fake.url}`)
const stop = () => fake.close().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
