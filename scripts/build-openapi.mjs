#!/usr/bin/env node
// `npm run openapi`: writes public/openapi.json (served as a static asset at /openapi.json) from
// the schemas the routes validate with, at the defaults of wrangler.toml's [vars]. The document is
// built at build time rather than in the Worker, whose bundle would otherwise carry zod's JSON
// Schema code; test/openapi-document.test.ts fails whenever the file is out of date.
import { build } from 'esbuild'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'smol-toml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const OPENAPI_FILE = join(root, 'public', 'openapi.json')

/** The [vars] of wrangler.toml: the defaults the service runs with. */
export function readWranglerVars(path = join(root, 'wrangler.toml')) {
  return parse(readFileSync(path, 'utf8')).vars ?? {}
}

export async function buildOpenApiJson() {
  const bundled = await build({
    stdin: {
      contents: "export { buildOpenApiDocument } from './src/openapi/openapi-document'\nexport { readConfig } from './src/config'\n",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    // The document reads the routes' schemas and never opens a database: no driver in this build
    // (node-postgres's CommonJS would not even load from an ES module bundle).
    alias: Object.fromEntries(['pg', 'pg-cloudflare', '@neondatabase/serverless'].map((name) => [name, './src/db/drivers/not-in-this-build.ts'])),
    // Nor is SQL parsed: Postgres's parser (src/sql/admission/pg-parser.ts) comes along only as
    // an import of a route module's, its .wasm left empty.
    loader: { '.wasm': 'empty' },
    write: false,
    logLevel: 'silent',
  })
  const mod = await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString('base64')}`)
  return `${JSON.stringify(mod.buildOpenApiDocument(mod.readConfig(readWranglerVars())), null, 2)}\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OPENAPI_FILE, await buildOpenApiJson())
  console.log(`wrote ${OPENAPI_FILE}`)
}
