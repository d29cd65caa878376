#!/usr/bin/env node
// wrangler.toml `[build]`: run before `wrangler dev` and `wrangler deploy` (and again by `wrangler
// dev` when public/js or public/app.css change).
// 1. Bundles the libraries the page's modules import from node_modules into public/vendor/
//    (git-ignored) as ES modules, so everything is served from our own assets — the pinned package
//    versions, no CDN, and nothing hand-copied that could drift from package-lock.json.
// 2. Bundles the page itself (and the admin console, public/admin/, the same way): public/js/main.js and what it imports into one minified module, and
//    public/app.css minified, both in public/vendor/. One request instead of a chain of imports
//    three levels deep, and about half the bytes of the sources (which stay as they are, readable,
//    with a source map pointing at them).
// 3. Writes their links into public/index.html, each URL carrying the file's content hash:
//    public/_headers lets browsers keep those URLs for a year, since a changed file is a new URL.
// 4. Bundles <txt2sql-chat> (public/js/embed.js, the same view modules as the page) into
//    public/embed.js: one classic script with its stylesheets inside as text (they become
//    constructable stylesheets), at a URL host pages keep — so it is revalidated, not hashed.
import { build, transform } from 'esbuild'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const publicDir = join(root, 'public')

/** The file under public/vendor/ that the page imports → the module(s) it re-exports. */
export const VENDORED = {
  // The parser and its stream stage (TextDecoderStream → EventSourceParserStream in the page).
  'eventsource-parser.js': { source: "export * from 'eventsource-parser'\nexport * from 'eventsource-parser/stream'", banner: 'eventsource-parser (MIT) — Espen Hovlandsdal' },
}

/** What index.html loads: built from the sources by buildBundles(). */
export const PAGE = { script: '/vendor/playground.js', stylesheet: '/vendor/app.css' }
/** What admin/index.html (the console, docs/ADMIN.md) loads: its own modules and stylesheet, built the same way. */
export const ADMIN_PAGE = { script: '/vendor/admin.js', stylesheet: '/vendor/admin.css', html: 'admin/index.html', entry: 'admin/js/main.js', css: 'admin/admin.css' }

/** What host pages load (docs/EMBED.md): built from public/js/embed.js by buildBundles(). */
export const EMBED = { script: '/embed.js' }

/** `import css from '../app.css'` in the embed: the stylesheet minified, as a string. */
const cssAsText = {
  name: 'css-as-text',
  setup(b) {
    b.onLoad({ filter: /\.css$/ }, async (args) => ({ contents: (await transform(readFileSync(args.path, 'utf8'), { loader: 'css', minify: true })).code, loader: 'text' }))
  },
}

const BEGIN = /<!-- assets: [^\n]*-->\n/
const END = '  <!-- /assets -->'

export async function buildAssets() {
  await buildBundles()
  for (const [file, page] of [['index.html', PAGE], [ADMIN_PAGE.html, ADMIN_PAGE]]) {
    const html = join(publicDir, file)
    const current = readFileSync(html, 'utf8')
    const next = withAssetLinks(current, page)
    if (next !== current) writeFileSync(html, next)
  }
}

/** public/vendor/: the libraries the page imports, then the page's own script and stylesheet. */
export async function buildBundles() {
  const common = { bundle: true, minify: true, target: 'es2022', logLevel: 'warning', legalComments: 'inline' }
  for (const [file, { source, banner }] of Object.entries(VENDORED)) {
    await build({
      ...common,
      stdin: { contents: source, resolveDir: root, loader: 'js' },
      banner: { js: `/* ${banner}; bundled from node_modules by scripts/build-assets.mjs */` },
      format: 'esm',
      platform: 'browser',
      outfile: join(publicDir, 'vendor', file),
    })
  }
  await build({ ...common, entryPoints: [join(publicDir, 'js', 'main.js')], format: 'esm', platform: 'browser', sourcemap: 'linked', sourcesContent: false, outfile: join(publicDir, PAGE.script) })
  await build({ ...common, entryPoints: [join(publicDir, 'app.css')], outfile: join(publicDir, PAGE.stylesheet) })
  // An IIFE: a classic script needs no CORS to load from another origin, and leaves no globals.
  await build({ ...common, entryPoints: [join(publicDir, 'js', 'embed.js')], format: 'iife', platform: 'browser', plugins: [cssAsText], outfile: join(publicDir, EMBED.script) })
  await build({ ...common, entryPoints: [join(publicDir, ADMIN_PAGE.entry)], format: 'esm', platform: 'browser', sourcemap: 'linked', sourcesContent: false, outfile: join(publicDir, ADMIN_PAGE.script) })
  await build({ ...common, entryPoints: [join(publicDir, ADMIN_PAGE.css)], outfile: join(publicDir, ADMIN_PAGE.stylesheet) })
}

/** A page (public/index.html, public/admin/index.html) with its asset block rewritten for the built files as they are now. */
export function withAssetLinks(html, page = PAGE) {
  const begin = BEGIN.exec(html)
  const end = html.indexOf(END)
  if (!begin || end < begin.index) throw new Error('the page\'s <!-- assets: … --> … <!-- /assets --> block is missing')
  const versioned = (path) => `${path}?v=${createHash('sha256').update(readFileSync(join(publicDir, path))).digest('hex').slice(0, 10)}`
  const links = [`<link rel="stylesheet" href="${versioned(page.stylesheet)}">`, `<script type="module" src="${versioned(page.script)}"></script>`]
  return html.slice(0, begin.index + begin[0].length) + links.map((line) => `  ${line}\n`).join('') + html.slice(end)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildAssets()
