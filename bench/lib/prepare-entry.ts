// What the request path runs before calling DashScope, bundled for the P8 benchmark.
export { isolateSnapshots, loadSnapshot, parseSnapshot, saveSnapshot } from '../../src/schema/snapshot-store'
export { buildPrompt } from '../../src/prompt/build-prompt'
export { judgeAnswerable } from '../../src/answer/judge-answerable'
export { parseSynonyms } from '../../src/linking/synonyms'
export { introspect } from '../../src/db/introspect'
