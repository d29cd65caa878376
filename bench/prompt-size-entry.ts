export { buildPrompt } from '../src/prompt/build-prompt'
export { buildSummaryPrompt } from '../src/prompt/build-summary-prompt'
export { demoSnapshot } from '../src/demo/metro-snapshot'
export { estimateTokens } from '../src/linking/tokenize'
