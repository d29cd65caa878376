#!/usr/bin/env node
// node tools/fake-dashscope/cli.mjs [--port 9999] [--key fake-key] [--answers answers.json] [--log]
import { readFileSync } from 'node:fs'
import { startFakeDashScope } from './server.mjs'

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : fallback
}
// --answers: a JSON object, question → answer text (or {"answer", "repair"}).
const answersFile = arg('answers', undefined)
const answers = answersFile ? JSON.parse(readFileSync(answersFile, 'utf8')) : {}
const fake = await startFakeDashScope({ port: Number(arg('port', 0)), apiKey: arg('key', 'fake-key'), log: process.argv.includes('--log'), answers })
console.log(`fake-dashscope listening on ${fake.url}`)
const stop = () => fake.close().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
