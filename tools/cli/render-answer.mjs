// The answer for a person at a terminal, written as the events arrive: reasoning dimmed, the
// answer text as it is, then the final SQL highlighted with Postgres's verdict, the rows as a
// table, the answer in words, and what it cost.
import stringWidth from 'string-width'
import { cleanLine, cleanStrings, cleanText } from './clean-terminal.mjs'
import { formatTable } from './format-table.mjs'
import { highlightSql } from './highlight-sql.mjs'

/**
 * @param {{ write: (text: string) => void, writeError: (text: string) => void, style: import('./style.mjs').Style, errorStyle: import('./style.mjs').Style }} out
 */
export function createRenderer({ write, writeError, style, errorStyle }) {
  let atLineStart = true
  let phase = 'start' // start → reasoning → answer (→ summary)
  let columns = null
  let rows = []
  let usage = null

  const put = (text) => {
    if (!text) return
    write(text)
    atLineStart = text.endsWith('\n')
  }
  const line = (text = '') => {
    if (!atLineStart) put('\n')
    put(`${text}\n`)
  }

  return {
    /** @param {{ event: string, data: any }} e */
    render(e) {
      // Everything below writes only cleaned text: each string of the event, whichever field.
      const event = e.event
      const data = cleanStrings(e.data)
      switch (event) {
        case 'meta':
          // No tables: linking declined the question before the model was asked.
          line(style.dim(`${data.model} · schema ${data.schema_version} · ${data.tables.length ? `tables: ${data.tables.map(cleanLine).join(', ')}` : 'no tables'}`))
          // What else the answer was built from, and whether the model was asked at all.
          if (data.examples?.length || data.glossary?.length) {
            line(style.dim(`based on${data.examples?.length ? ` examples ${data.examples.map((e) => `#${e.id} (${e.similarity})`).join(', ')}` : ''}${data.glossary?.length ? ` · terms ${data.glossary.join(', ')}` : ''}`))
          }
          if (data.verified) {
            const swap = data.verified.substituted ? `, ${data.verified.substituted.from} → ${data.verified.substituted.to} (${data.verified.substituted.column})` : ''
            line(style.green(`✓ 已验证 / Verified: approved example #${data.verified.example_id}${swap}, no model call`))
          } else if (data.cached) {
            line(style.dim(`cached answer of ${data.cached.at} (request ${data.cached.request_id}), SQL checked again, no model call`))
          }
          if (data.verified_fallback) line(style.yellow(`approved example #${data.verified_fallback.example_id} failed its check now (${data.verified_fallback.error}): the model answers`))
          break
        case 'reasoning':
          if (phase !== 'reasoning') line(style.dim(style.italic('thinking…')))
          phase = 'reasoning'
          put(style.dim(data.text))
          break
        case 'delta':
          if (phase === 'reasoning') line()
          phase = 'answer'
          put(data.text)
          break
        case 'repair': {
          const where = data.position ? ` (at character ${data.position})` : ''
          line()
          line(style.yellow(`✗ Postgres refused this SQL: ${data.error}${where} — asking the model to repair it:`))
          line()
          phase = 'start'
          break
        }
        case 'unanswerable': {
          line()
          const closest = data.closest_tables.length ? ` (closest tables: ${data.closest_tables.map(cleanLine).join(', ')})` : ''
          line(style.yellow(`cannot answer: ${data.reason}`) + style.dim(closest))
          break
        }
        case 'sql':
          renderSql(data, e.data.sql)
          break
        case 'rows':
          if (data.columns) columns = data.columns
          rows.push(...data.rows)
          break
        case 'result':
          renderResult(data)
          break
        case 'summary':
          // A skipped summary says nothing the result line has not said (no rows, a failed run).
          if (data.skipped || !data.text) break
          if (phase !== 'summary') {
            line()
            put(style.bold('→ '))
          }
          phase = 'summary'
          put(data.text)
          break
        case 'usage':
          usage = usage
            ? { input_tokens: usage.input_tokens + data.input_tokens, output_tokens: usage.output_tokens + data.output_tokens }
            : data
          break
        case 'error':
          if (!atLineStart) put('\n')
          writeError(errorStyle.red(`error ${data.code}: ${data.message}${data.retryable ? ' (retryable)' : ''}`) + '\n')
          break
        case 'done': {
          const parts = []
          if (usage) parts.push(`tokens ${usage.input_tokens} in / ${usage.output_tokens} out`)
          if (data.ttft_ms != null) parts.push(`first token ${data.ttft_ms} ms`)
          parts.push(`total ${(data.total_ms / 1000).toFixed(1)} s`)
          if (data.finish_reason !== 'stop') parts.push(`finish: ${data.finish_reason}`)
          line(style.dim(parts.join(' · ')))
          break
        }
        default:
          // An event this client does not know yet: newer services may add some.
          break
      }
    },
  }

  /** `rawSql`: as the service sent it, since Postgres's position counts its characters. */
  function renderSql(data, rawSql) {
    line()
    if (data.sql === null) {
      line(style.yellow(`no SQL in the answer${data.error ? `: ${data.error}` : ''}`))
      return
    }
    line(style.dim('── SQL ──'))
    line(highlightSql(data.sql, style))
    line(style.dim('─────────'))
    const repaired = data.repaired ? ' after one repair' : ''
    if (data.ok && data.checked === true) {
      const plan = data.plan_rows !== undefined ? ` · plan ≈ ${data.plan_rows} row${data.plan_rows === 1 ? '' : 's'}, cost ${data.plan_cost}` : ''
      line(style.green(`✓ checked by Postgres${repaired}`) + style.dim(plan))
    } else if (data.ok && data.checked === false) {
      line(style.yellow(`! not checked: ${data.check_error ?? 'the database could not be asked'}`))
    } else if (data.ok) {
      line(style.dim('unchecked: the service has no database to check it against'))
    } else {
      const details = [data.pg_code && `SQLSTATE ${data.pg_code}`, data.position && `at character ${data.position}`].filter(Boolean).join(', ')
      line(style.red(`✗ refused by Postgres${repaired}: ${data.error}`) + (details ? style.dim(` (${details})`) : ''))
      if (data.position) line(style.dim(pointAt(rawSql, data.position)))
    }
  }

  function renderResult(data) {
    line()
    // Never run (the check refused it, no SQL, cannot be answered…): the error says why.
    if (!data.ok && data.code && data.code !== 'query_failed' && data.code !== 'execution_refused') {
      line(style.yellow(`✗ ${data.error}`))
      return
    }
    if (!data.ok) {
      line(style.red(`✗ the query failed: ${data.error}`) + (data.pg_code ? style.dim(` (SQLSTATE ${data.pg_code})`) : ''))
      return
    }
    if (columns && columns.length > 0) line(formatTable(columns, rows, style))
    const count = `${data.row_count} row${data.row_count === 1 ? '' : 's'}`
    line(style.dim(`${count}${data.truncated ? ' (truncated: the service stops at its SQL_MAX_ROWS / SQL_MAX_RESULT_BYTES)' : ''} · ${data.elapsed_ms} ms`))
  }
}

/** The line of `sql` holding character `position` (from 1), and a caret under it. */
export function pointAt(sql, position) {
  const chars = [...sql]
  const before = chars.slice(0, position - 1).join('')
  const start = before.lastIndexOf('\n') + 1
  const end = sql.indexOf('\n', before.length)
  // Shown cleaned (a control character takes the width of its escape), the caret counted on the
  // same cleaned text; display columns, so it stands under the right character after Chinese text.
  const text = cleanText(sql.slice(start, end < 0 ? undefined : end))
  return `${text}\n${' '.repeat(stringWidth(cleanText(before.slice(start))))}^`
}
