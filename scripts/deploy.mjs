#!/usr/bin/env node
// `npm run deploy [-- --hyperdrive] [-- --dry-run [--outdir DIR]]`: scripts/deploy-worker.mjs with
// the real wrangler and fetch (docs/DEPLOY.md).
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { deployWorker } from './deploy-worker.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** wrangler on this project's Node; `inherit` shows its output as it runs (the deploy itself). */
function wrangler(args, { env = {}, inherit = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), ...args], {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ...env },
      stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d) => (stdout += d))
    child.stderr?.on('data', (d) => (stderr += d))
    child.on('error', (err) => resolve({ code: 1, stdout, stderr: err.message }))
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))
  })
}

process.exitCode = await deployWorker({ root, argv: process.argv.slice(2), env: process.env, wrangler })
