#!/usr/bin/env node
// wrangler.toml `[build]`: run before `wrangler dev` and `wrangler deploy`. Bundles the libraries
// the playground page imports from node_modules into public/vendor/ (git-ignored) as ES modules,
// so the page is served entirely from our own assets — the pinned package versions, no CDN, and
// nothing hand-copied that could drift from package-lock.json.
import { build } from 'esbuild'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The file under public/vendor/ that the page imports → the module(s) it re-exports. */
export const VENDORED = {
  // The parser and its stream stage (TextDecoderStream → EventSourceParserStream in the page).
  'eventsource-parser.js': { source: "export * from 'eventsource-parser'\nexport * from 'eventsource-parser/stream'", banner: 'eventsource-parser (MIT) — Espen Hovlandsdal' },
}

export async function buildAssets() {
  for (const [file, { source, banner }] of Object.entries(VENDORED)) {
    await build({
      stdin: { contents: source, resolveDir: root, loader: 'js' },
      banner: { js: `/* ${banner}; bundled from node_modules by scripts/build-assets.mjs */` },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      legalComments: 'inline',
      outfile: join(root, 'public', 'vendor', file),
      logLevel: 'warning',
    })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildAssets()
