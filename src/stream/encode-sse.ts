import type { StreamItem } from './events'

/**
 * Events → SSE text. One `data:` line per event is safe because JSON.stringify escapes CR and LF.
 * The keep-alive is a comment line, which EventSource and SSE parsers ignore.
 */
export class SseEncoderStream extends TransformStream<StreamItem, string> {
  constructor() {
    super({
      transform(item, controller) {
        if (item.event === 'ping') return controller.enqueue(': ping\n\n')
        controller.enqueue(`event: ${item.event}\ndata: ${JSON.stringify(item.data)}\n\n`)
      },
    })
  }
}

/**
 * Events → the old Flask service's output: the answer text only, errors as a line of text. Kept
 * so clients of `/getAnwser` work unchanged.
 */
export class LegacyTextEncoderStream extends TransformStream<StreamItem, string> {
  constructor() {
    super({
      transform(item, controller) {
        if (item.event === 'delta') controller.enqueue(item.data.text)
        else if (item.event === 'error') controller.enqueue(`\nError: ${item.data.message}\n`)
      },
    })
  }
}
