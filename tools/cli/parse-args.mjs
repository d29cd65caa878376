// The command line: `txt2sql-edge ask [options] "问题"`. Parsed with node:util's parseArgs; a
// mistake is a UsageError (exit code 2) naming what is wrong.
import { parseArgs } from 'node:util'

export const DEFAULT_URL = 'http://127.0.0.1:8787'

export class UsageError extends Error {
  name = 'UsageError'
}

export const USAGE = `Usage: txt2sql-edge ask [options] "<question>"

Asks the txt2sql-edge service a question and prints the answer as it streams:
the model's reasoning (dimmed), its answer, the final SQL (highlighted) and
Postgres's check of it; with --execute, the rows as a table.

Options:
  --url URL         the service (env TXT2SQL_URL; default ${DEFAULT_URL})
  --key KEY         API key, sent as a bearer token (env TXT2SQL_API_KEY)
  --token JWT       a token from your identity provider, sent as the bearer
                    instead (env TXT2SQL_TOKEN, which wins over TXT2SQL_API_KEY);
                    the answer then covers what your database role may read
  --execute, -x     run the checked SQL read-only and print its rows, then a
                    short answer in words (the service needs SQL_EXECUTE=true)
  --no-summary      with --execute: the rows only, no answer in words (saves
                    the service's second DashScope call)
  --json            print the raw events, one JSON object per line:
                    {"event":"delta","data":{"text":"…"}}
  --history FILE    a conversation: send the turns in FILE (a JSON array of
                    {role, content}; missing = a new conversation), then append
                    this question and its answer to it
  --no-color        no colours (also NO_COLOR=1, or when output is not a terminal)
  -h, --help        this help
  -v, --version     the client's version

Exit codes: 0 answered with SQL Postgres accepted (or, without a database on
the service, unchecked SQL); 1 answered without valid SQL (none, refused by the
check, or the rows could not be read); 2 usage error; 3 HTTP or network error,
or the answer broke off (the API's error message goes to stderr);
130 cancelled with Ctrl-C (the service then cancels its DashScope request).

Examples:
  npx txt2sql-edge ask "沈塘桥地铁站的信息"
  npx txt2sql-edge ask --execute "每条线路有多少个站"
  npx txt2sql-edge ask --history talk.json "它们在哪个区"
  npm run ask -- --json "1号线有哪些站" | jq -c .
`

/**
 * @param {string[]} argv arguments after the program name
 * @param {Record<string, string | undefined>} env
 * @returns {{ help: true } | { version: true } | { command: 'ask', question: string, url: URL, key: string | undefined, token: string | undefined, execute: boolean, summarize: boolean, json: boolean, history: string | undefined, color: boolean | undefined }}
 */
export function parseCliArgs(argv, env) {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        token: { type: 'string' },
        execute: { type: 'boolean', short: 'x' },
        'no-summary': { type: 'boolean' },
        json: { type: 'boolean' },
        history: { type: 'string' },
        color: { type: 'boolean' },
        'no-color': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    })
  } catch (err) {
    // parseArgs says e.g. "Unknown option '--foo'"; the rest of its text is about `strict`.
    throw new UsageError(String(err.message).split('. ')[0])
  }
  const { values, positionals } = parsed
  if (values.help) return { help: true }
  if (values.version) return { version: true }
  const [command, ...rest] = positionals
  if (command === undefined) throw new UsageError('no command: use `txt2sql-edge ask "<question>"`')
  if (command === 'help') return { help: true }
  if (command !== 'ask') throw new UsageError(`unknown command "${command}": the command is ask`)
  const question = rest.join(' ').trim()
  if (!question) throw new UsageError('no question: txt2sql-edge ask "<question>"')
  const rawUrl = values.url ?? (env.TXT2SQL_URL || DEFAULT_URL)
  let url
  try {
    url = new URL(rawUrl)
  } catch {
    throw new UsageError(`not a URL: ${rawUrl}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`not an http(s) URL: ${rawUrl}`)
  if (values.key !== undefined && values.key === '') throw new UsageError('--key is empty')
  if (values.token !== undefined && values.token === '') throw new UsageError('--token is empty')
  if (values.key !== undefined && values.token !== undefined) throw new UsageError('--key and --token are both the bearer: give one')
  if (values.history !== undefined && values.history === '') throw new UsageError('--history needs a file name')
  return {
    command: 'ask',
    question,
    url,
    // A flag wins over the environment; of the two variables, the token (a narrower identity) wins.
    key: values.key ?? (values.token === undefined ? env.TXT2SQL_API_KEY || undefined : undefined),
    token: values.token ?? (values.key === undefined ? env.TXT2SQL_TOKEN || undefined : undefined),
    execute: values.execute ?? false,
    summarize: (values.execute ?? false) && !values['no-summary'],
    json: values.json ?? false,
    history: values.history,
    color: values['no-color'] ? false : values.color,
  }
}
