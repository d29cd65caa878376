import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript script, no type declarations
import { wranglerOutput } from '../../scripts/dev/wrangler-output.mjs'

// Lines as wrangler 4.164 prints them under npm start (colours as it sends them to a terminal).
const BINDINGS = ['Your Worker has access to the following bindings:', 'env.SCHEMA_KV                                                           KV Namespace              local']
const TYPES = '\u001b[33m❓ Your types might be out of date. Re-run `wrangler types` to ensure your types are correct.\u001b[0m'
const ERROR = '\u001b[31m✘ \u001b[41;31m[\u001b[41;97mERROR\u001b[41;31m]\u001b[0m Could not resolve "./nope"'
const REFRESH = '{"cron":"17 * * * *","refresh":"ok","version":"pg-f976bde81321","changed":true,"tables":1,"duration_ms":272}'
const REQUEST = '{"request_id":"46109af7","method":"GET","path":"/healthz","total_ms":89,"status":503}'
const INFO = '[wrangler:info] GET /healthz 503 Service Unavailable (4111ms)'

function run(verbose: boolean, ready: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'wrangler-output-'))
  try {
    const shown: string[] = []
    const out = wranglerOutput({ file: join(dir, 'wrangler.log'), verbose, print: (line: string) => shown.push(line) })
    for (const line of [...BINDINGS, TYPES, ERROR, REFRESH, REQUEST]) out.onLine(line, 'stdout')
    if (ready) out.markReady()
    for (const line of [REQUEST, INFO]) out.onLine(line, 'stdout')
    return { shown, log: readFileSync(join(dir, 'wrangler.log'), 'utf8'), tail: out.tail() as string[] }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe("npm start's screen and wrangler's log", () => {
  it('shows errors, the refresh line and, once ready, the request log; the bindings table, request lines and the types warning only in the file', () => {
    const { shown, log } = run(false, true)
    expect(shown).toEqual([ERROR, REFRESH, REQUEST])
    for (const line of [...BINDINGS, REFRESH, REQUEST, INFO]) expect(log).toContain(line)
    expect(log).toContain('[ERROR] Could not resolve')
    expect(log).not.toContain('\u001b[')
  })

  it('before ready, no request log on the screen', () => {
    expect(run(false, false).shown).toEqual([ERROR, REFRESH])
  })

  it('--verbose shows everything but the types warning about npm start\'s own derived configuration', () => {
    const { shown } = run(true, false)
    expect(shown).toEqual([...BINDINGS, ERROR, REFRESH, REQUEST, REQUEST, INFO])
  })

  it("keeps wrangler's last lines, without colours, to show when it ends before it is ready", () => {
    expect(run(false, false).tail.at(-1)).toBe(INFO)
  })
})
