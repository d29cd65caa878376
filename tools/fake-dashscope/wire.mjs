// Byte-exact framing of both DashScope streaming protocols (see shared/dashscope/WIRE.md).

/** Native: no space after the colon, an id counter, event:result and the :HTTP_STATUS comment. */
export function nativeEvent(id, data, { event = 'result', status = 200, nl = '\n' } = {}) {
  const json = typeof data === 'string' ? data : JSON.stringify(data)
  return `id:${id}${nl}event:${event}${nl}:HTTP_STATUS/${status}${nl}data:${json}${nl}${nl}`
}

/** Compatible mode: standard `data: ` with a space. */
export function openAiEvent(data, { nl = '\n' } = {}) {
  const json = typeof data === 'string' ? data : JSON.stringify(data)
  return `data: ${json}${nl}${nl}`
}

export function nativeChunk({ content, reasoning, finish, usage, requestId, format }) {
  const output =
    format === 'text'
      ? { text: content, finish_reason: finish }
      : {
          choices: [
            {
              message: reasoning === undefined ? { content, role: 'assistant' } : { content, reasoning_content: reasoning, role: 'assistant' },
              finish_reason: finish,
            },
          ],
        }
  return { output, usage, request_id: requestId }
}

export function nativeUsage(input, output, reasoningTokens) {
  const usage = { total_tokens: input + output, output_tokens: output, input_tokens: input }
  if (reasoningTokens) usage.output_tokens_details = { reasoning_tokens: reasoningTokens }
  return usage
}

export function openAiChunk({ id, model, created, content, reasoning, finish, first }) {
  const delta = {}
  if (reasoning !== undefined) {
    delta.content = content ?? null
    delta.reasoning_content = reasoning
  } else delta.content = content
  if (first) delta.role = 'assistant'
  return {
    choices: [{ delta, finish_reason: finish ?? null, index: 0, logprobs: null }],
    object: 'chat.completion.chunk',
    usage: null,
    created,
    system_fingerprint: null,
    model,
    id,
  }
}

export function openAiUsageChunk({ id, model, created, input, output }) {
  return {
    choices: [],
    object: 'chat.completion.chunk',
    usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output, prompt_tokens_details: { cached_tokens: 0 } },
    created,
    system_fingerprint: null,
    model,
    id,
  }
}

export function nativeErrorBody(code, message, requestId) {
  return { code, message, request_id: requestId }
}

export function openAiErrorBody(code, message, type = 'invalid_request_error') {
  return { error: { message, type, param: null, code } }
}

/** The refusals DashScope sends before streaming, per status. */
export const REFUSALS = {
  400: ['InvalidParameter', 'The request is invalid.'],
  401: ['InvalidApiKey', 'Invalid API-key provided.'],
  404: ['ModelNotFound', 'Model not exist.'],
  429: ['Throttling.RateQuota', 'Requests rate limit exceeded, please try again later.'],
  500: ['InternalError', 'An internal error has occured, please try again later.'],
  503: ['ServiceUnavailable', 'The service is temporarily unavailable.'],
}
