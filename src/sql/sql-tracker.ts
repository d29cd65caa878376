import { extractSql, type ExtractedSql } from './extract-sql'

/**
 * Follows the answer as it streams, to extract the final SQL when it ends. The SQL comes last, so
 * only a bounded tail is kept: a runaway answer (100 MB of text) must not grow memory, and the
 * last fenced block of any sensible answer fits in 256 KiB.
 */
export class SqlTracker {
  private tail = ''

  constructor(private readonly maxChars = 256 * 1024) {}

  push(text: string): void {
    this.tail += text
    // Trim in steps, not on every push, so long answers do not copy the tail each time.
    if (this.tail.length > this.maxChars * 2) this.tail = this.tail.slice(-this.maxChars)
  }

  result(): ExtractedSql {
    return extractSql(this.tail.length > this.maxChars ? this.tail.slice(-this.maxChars) : this.tail)
  }
}
