/**
 * An answer that needs no model call (a verified answer, a cached one) as the upstream body of one:
 * compatible-mode chunks (`data: {chunk}` … `data: [DONE]`) carrying its reasoning and text. It then
 * takes the same pipeline as a model's answer (src/stream/answer-pipeline.ts) — the same events in
 * the same order, the SQL extracted, checked and run the same way — so clients see nothing new but
 * `meta`. No usage chunk: nothing was spent, and no `usage` event follows.
 */
export function replayBody(answer: { reasoning?: string; text: string }): ReadableStream<Uint8Array> {
  const chunk = (delta: Record<string, string>, finish: string | null = null) => `data: ${JSON.stringify({ choices: [{ delta, finish_reason: finish }] })}\n\n`
  const text =
    (answer.reasoning ? chunk({ reasoning_content: answer.reasoning }) : '') + chunk({ content: answer.text }) + chunk({}, 'stop') + 'data: [DONE]\n\n'
  const bytes = new TextEncoder().encode(text)
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes)
      controller.close()
    },
  })
}
