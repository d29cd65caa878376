/**
 * Native events' `content` → the new text of each event.
 *
 * We always ask for `incremental_output: true`, and DashScope honours it: each piece is only the
 * new text. A model that ignored the flag would repeat the whole text so far in every piece
 * ("cumulative"). The two cannot be told apart from a few pieces — an incremental answer that
 * starts "`", "``sq" or "好", "好的" looks like a cumulative one — and guessing wrong loses text
 * (taking an incremental stream as cumulative drops all but a few characters of the answer) or
 * doubles it. So the incremental reading is trusted, and cumulative is recognised only from
 * evidence an incremental stream does not produce: {@link CUMULATIVE_EVIDENCE} pieces in a row,
 * each one the whole previous piece followed by more text.
 *
 * The first piece means the same under both readings and goes out at once. While the later
 * pieces still extend the chain they are held (at most that many short pieces), because passing
 * them on would be wrong under one of the two readings; the first piece that breaks the chain
 * releases everything held, in order, and the stream is incremental from then on. A stream that ends (or finishes) while still ambiguous is read as incremental, as we
 * asked. Only lengths are kept once the mode is known, never the answer.
 */
export const CUMULATIVE_EVIDENCE = 4

export class IncrementalText {
  private mode: 'unknown' | 'incremental' | 'cumulative' = 'unknown'
  /** While the mode is unknown: the first piece (already passed on), then the pieces held, each
   * extending the one before it. */
  private chain: string[] = []
  /** In cumulative mode: the length of the text passed on so far. */
  private seenLength = 0

  /** The text to pass on for this piece ('' when none yet). */
  next(piece: string): string {
    if (!piece) return ''
    if (this.mode === 'incremental') return piece
    if (this.mode === 'cumulative') {
      const delta = piece.length > this.seenLength ? piece.slice(this.seenLength) : ''
      this.seenLength = Math.max(this.seenLength, piece.length)
      return delta
    }
    const first = this.chain[0]
    if (first === undefined) {
      this.chain.push(piece)
      return piece
    }
    const last = this.chain[this.chain.length - 1]!
    if (piece.length > last.length && piece.startsWith(last)) {
      this.chain.push(piece)
      if (this.chain.length < CUMULATIVE_EVIDENCE) return ''
      this.mode = 'cumulative'
      this.chain = []
      this.seenLength = piece.length
      return piece.slice(first.length)
    }
    this.mode = 'incremental'
    return this.release() + piece
  }

  /** What is still held, when the text ends: read as incremental. */
  flush(): string {
    if (this.mode !== 'unknown' || this.chain.length === 0) return ''
    this.mode = 'incremental'
    return this.release()
  }

  /** The held pieces (all but the first, which went out), as incremental text. */
  private release(): string {
    const text = this.chain.slice(1).join('')
    this.chain = []
    return text
  }
}
