import type { Protocol } from '../config'

export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string }

export type UpstreamRequestInput = {
  protocol: Protocol
  baseUrl: string
  apiKey: string
  model: string
  messages: ChatMessage[]
  enableThinking: boolean
}

const NATIVE_PATH = '/api/v1/services/aigc/text-generation/generation'
const OPENAI_PATH = '/compatible-mode/v1/chat/completions'

/** The streaming request for either DashScope protocol; the same code path serves the fake and the real one. */
export function buildUpstreamRequest(input: UpstreamRequestInput): { url: string; init: RequestInit } {
  const headers: Record<string, string> = {
    authorization: `Bearer ${input.apiKey}`,
    'content-type': 'application/json',
    accept: 'text/event-stream',
  }
  if (input.protocol === 'native') {
    headers['x-dashscope-sse'] = 'enable'
    const parameters: Record<string, unknown> = { result_format: 'message', incremental_output: true }
    // Only thinking-capable models accept enable_thinking; sending false to others is harmless on
    // DashScope, but we send it only when asked so older models never see an unknown parameter.
    if (input.enableThinking) parameters.enable_thinking = true
    return {
      url: input.baseUrl + NATIVE_PATH,
      init: { method: 'POST', headers, body: JSON.stringify({ model: input.model, input: { messages: input.messages }, parameters }) },
    }
  }
  const body: Record<string, unknown> = {
    model: input.model,
    messages: input.messages,
    stream: true,
    stream_options: { include_usage: true },
  }
  if (input.enableThinking) body.enable_thinking = true
  return { url: input.baseUrl + OPENAI_PATH, init: { method: 'POST', headers, body: JSON.stringify(body) } }
}
