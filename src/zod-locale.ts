import * as z from 'zod/mini'
import { en } from 'zod/locales'

/**
 * zod/mini registers no locale, so without this every default issue message would read just
 * "Invalid input". Full zod registers English on first use; do the same (unless a locale is
 * already set) so the messages we pass on — `tables.0.columns: Too small: expected array to
 * have >=1 items` — stay as they were. Every module that builds a schema imports this for its
 * effect.
 */
if (!z.config().localeError) z.config(en())
