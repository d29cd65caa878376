import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript script, no type declarations
import { DirectoryInUse, lockDirectory } from '../../scripts/dir-lock.mjs'
// @ts-expect-error plain ESM JavaScript script, no type declarations
import { startDemoDatabase } from '../../scripts/demo-database.mjs'

const root = join(import.meta.dirname, '..', '..')
const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'txt2sql-lock-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Another process holding `dir` until it is killed. */
async function holderProcess(dir: string) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    import { lockDirectory } from ${JSON.stringify(join(root, 'scripts', 'dir-lock.mjs'))}
    await lockDirectory(${JSON.stringify(dir)}, { port: 4242 })
    console.log('holding')
    setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('holding') && resolve()))
  return {
    pid: child.pid!,
    end: (signal: NodeJS.Signals) => {
      child.kill(signal)
      return new Promise((r) => child.once('exit', r))
    },
  }
}

/** `dir` can be held by this process now. */
async function expectFree(dir: string) {
  await (await lockDirectory(dir)).release()
}

describe('one process per directory', () => {
  it('a second holder is refused, told who holds it; once released, the directory can be held again', async () => {
    const dir = tempDir()
    const holder = await holderProcess(dir)
    try {
      const refused = await lockDirectory(dir).catch((err: unknown) => err)
      expect(refused).toBeInstanceOf(DirectoryInUse)
      expect(refused).toMatchObject({ dir, holder: { pid: holder.pid, port: 4242 } })
    } finally {
      await holder.end('SIGTERM')
    }
    await expectFree(dir)
  })

  it('a holder killed with SIGKILL leaves no stale lock behind', async () => {
    const dir = tempDir()
    await (await holderProcess(dir)).end('SIGKILL')
    await expectFree(dir)
  })

  it('a second demo database on the same data directory is refused before it opens it', async () => {
    const dir = tempDir()
    const holder = await holderProcess(dir)
    try {
      await expect(startDemoDatabase({ dataDir: dir })).rejects.toMatchObject({ holder: { pid: holder.pid } })
    } finally {
      await holder.end('SIGKILL')
    }
  })
})
