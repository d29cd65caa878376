import { detectUnanswerable } from './detect-unanswerable'
import { extractSql, type ExtractedSql } from './extract-sql'

/**
 * Follows the answer as it streams, to extract the final SQL when it ends. The SQL comes last, so
 * only a bounded tail is kept: a runaway answer (100 MB of text) must not grow memory, and the
 * last fenced block of any sensible answer fits in 256 KiB.
 */
export class SqlTracker {
  private tail = ''
  private reasoningTail = ''

  constructor(private readonly maxChars = 256 * 1024) {}

  push(text: string): void {
    this.tail += text
    // Trim in steps, not on every push, so long answers do not copy the tail each time.
    if (this.tail.length > this.maxChars * 2) this.tail = this.tail.slice(-this.maxChars)
  }

  /** Thinking models sometimes write the SQL only while reasoning. */
  pushReasoning(text: string): void {
    this.reasoningTail += text
    if (this.reasoningTail.length > this.maxChars * 2) this.reasoningTail = this.reasoningTail.slice(-this.maxChars)
  }

  /** Why the model says the schema cannot answer the question, or null (detect-unanswerable.ts). */
  unanswerable(found: ExtractedSql): string | null {
    return detectUnanswerable(this.tail.length > this.maxChars ? this.tail.slice(-this.maxChars) : this.tail, found.ok)
  }

  /** The answer's SQL; only when the answer has none, the reasoning's. */
  result(): ExtractedSql {
    const found = extractSql(this.tail.length > this.maxChars ? this.tail.slice(-this.maxChars) : this.tail)
    if (found.ok || !this.reasoningTail) return found
    const fromReasoning = extractSql(this.reasoningTail.length > this.maxChars ? this.reasoningTail.slice(-this.maxChars) : this.reasoningTail)
    return fromReasoning.ok ? fromReasoning : found
  }
}
