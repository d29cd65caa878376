export { buildLinkIndex } from '../src/linking/link-index'
export { linkTables } from '../src/linking/select-schema'
export { parseSynonyms } from '../src/linking/synonyms'
export { introspect } from '../src/db/introspect'
