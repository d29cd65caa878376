import { readFileSync } from 'node:fs'
import MarkdownIt from 'markdown-it'

/** A shell command of a ```sh block, as written (continuation lines and heredocs included). */
export type Command = { text: string; line: number }

/**
 * One ```sh block of a document: its commands, run in order; the output shown for its last command
 * (the fenced block right after it, nothing but blank lines between); the files written before it
 * (`<!-- file: NAME -->` blocks above it since the previous command block).
 */
export type Example = { doc: string; line: number; commands: Command[]; output?: { text: string; line: number }; files: { name: string; text: string }[] }

/** A fenced block that looks like an example (a request or a response) but belongs to no command. */
export type LooseBlock = { doc: string; line: number; lang: string; firstLine: string }

const COMMAND_LANGS = new Set(['sh', 'bash', 'shell', 'console'])
const FILE_MARK = /^<!--\s*file:\s*(\S+)\s*-->\s*$/

/**
 * The examples of a Markdown document, in document order, parsed by markdown-it (fences inside list
 * items included), and the blocks that look like examples but are tied to no command.
 */
export function readExamples(path: string, doc: string): { examples: Example[]; loose: LooseBlock[] } {
  const source = readFileSync(path, 'utf8')
  const lines = source.split('\n')
  // html: the `<!-- file: NAME -->` marks are HTML blocks.
  const tokens = new MarkdownIt({ html: true }).parse(source, {})
  const blankBetween = (from: number, to: number) => lines.slice(from, to).every((l) => l.trim() === '')
  const examples: Example[] = []
  const loose: LooseBlock[] = []
  let pendingFiles: Example['files'] = []
  let last: { example: Example; end: number } | undefined
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.type !== 'fence' || !t.map) continue
    const lang = t.info.trim().split(/\s+/)[0] ?? ''
    const [start, end] = t.map
    // `<!-- file: NAME -->` right above the block: a file the following commands use.
    const mark = tokens[i - 1]?.type === 'html_block' && tokens[i - 1]!.map && blankBetween(tokens[i - 1]!.map![1], start) ? FILE_MARK.exec(tokens[i - 1]!.content.trim()) : null
    if (mark) {
      pendingFiles.push({ name: mark[1]!, text: t.content })
      continue
    }
    if (COMMAND_LANGS.has(lang)) {
      const example: Example = { doc, line: start + 1, commands: splitCommands(t.content, start + 2), files: pendingFiles }
      pendingFiles = []
      examples.push(example)
      last = { example, end }
      continue
    }
    if (last && !last.example.output && blankBetween(last.end, start)) {
      last.example.output = { text: t.content, line: start + 1 }
      continue
    }
    if (looksLikeExample(lang, t.content)) loose.push({ doc, line: start + 1, lang, firstLine: t.content.split('\n')[0]! })
  }
  for (const f of pendingFiles) loose.push({ doc, line: 0, lang: 'file', firstLine: `file ${f.name} used by no command` })
  return { examples, loose }
}

/**
 * A request or response: JSON, HTTP, an event stream. Trees, SQL and prompts are illustrations, and
 * an app's configuration file (```jsonc) is tested where that app is stood in for (test/node/mcp-npm-start.test.ts).
 */
function looksLikeExample(lang: string, content: string): boolean {
  if (lang === 'json' || lang === 'http') return true
  return lang === '' && /^\s*(\{|\[|event:|HTTP\/)/.test(content)
}

/**
 * Commands one per line, a line ending in `\` continued on the next, a heredoc (`<<'EOF'`) up to its
 * terminator; blank lines and comment lines between commands are not commands.
 */
export function splitCommands(content: string, firstLine: number): Command[] {
  const lines = content.replace(/\n$/, '').split('\n')
  const out: Command[] = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() === '' || lines[i]!.trim().startsWith('#')) continue
    const line = firstLine + i
    const parts = [lines[i]!]
    while (parts.at(-1)!.endsWith('\\') && i + 1 < lines.length) parts.push(lines[++i]!)
    const heredoc = /<<-?\s*'?"?(\w+)'?"?/.exec(parts.join('\n'))
    if (heredoc) while (i + 1 < lines.length && parts.at(-1)!.trim() !== heredoc[1]) parts.push(lines[++i]!)
    out.push({ text: parts.join('\n'), line })
  }
  return out
}
