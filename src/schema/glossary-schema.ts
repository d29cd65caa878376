import * as z from 'zod/mini'
import '../zod-locale'

/**
 * The glossary's shape (src/schema/glossary.ts is what it does): its own module because the
 * snapshot's schema embeds it, and the glossary's logic reads the snapshot's tables.
 */
export const MAX_GLOSSARY_TERMS = 500

const Ref = z.string().check(z.minLength(1), z.maxLength(200))

export const GlossaryEntrySchema = z.object({
  /** The word as users write it; matched case-insensitively as a substring of the question. */
  term: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
  /** Other spellings of the same term (进站量, ridership). */
  aliases: z.optional(z.array(z.string().check(z.trim(), z.minLength(1), z.maxLength(64))).check(z.maxLength(20))),
  /** What the term means, in the company's words; metric definitions say how it is computed. */
  definition: z.string().check(z.trim(), z.minLength(1), z.maxLength(2000)),
  /** `table` or `schema.table`. */
  tables: z.optional(z.array(Ref).check(z.maxLength(20))),
  /** `table.column` or `schema.table.column`. */
  columns: z.optional(z.array(Ref).check(z.maxLength(40))),
})

export const GlossarySchema = z.object({
  terms: z.array(GlossaryEntrySchema).check(z.maxLength(MAX_GLOSSARY_TERMS)),
})

export type GlossaryEntry = z.infer<typeof GlossaryEntrySchema>
export type Glossary = z.infer<typeof GlossarySchema>
