// P9: introspection of a big business database, as the refresh runs it in production: a real
// PostgreSQL server with 2,000 tables × 30 columns (comments, foreign keys, short text columns with
// statistics and without), the worker under `wrangler dev` (workerd) reaching it through the Neon
// driver and the local WebSocket relay, POST /v1/admin/schema/refresh timed end to end.
// Reports wall time, the workerd processes' CPU time and RSS during the refresh (an upper bound on
// what the isolate used: it includes workerd's own I/O), and the stored snapshot's size and parts.
import { startLocalPostgres } from '../scripts/local-postgres.mjs'
import { startDevServer } from '../scripts/start-dev-server.mjs'
import { workerdCpuTicks, workerdRssKiB } from './lib/service.mjs'
import { summary } from './lib/stats.mjs'

const ADMIN = 'bench-admin-token'
const CLK_TCK = 100 // Linux USER_HZ

const SUFFIX = ['name', 'code', 'qty', 'amount', 'at', 'flag', 'day', 'status']
const TYPES = ['text', 'varchar(32)', 'integer', 'numeric(12,2)', 'timestamptz', 'boolean', 'date', 'varchar(8)']
const tableName = (t) => `t${String(t).padStart(4, '0')}_biz_record`
const columnName = (c) => `c${String(c).padStart(2, '0')}_${SUFFIX[c % 8]}`

/** `tables` tables of `columns` columns: a chain of foreign keys, Chinese comments, integer defaults. */
export function bigSchemaSql(tables, columns) {
  const out = ['BEGIN;']
  for (let t = 0; t < tables; t++) {
    const cols = ['id bigint PRIMARY KEY', t > 0 ? `parent_id bigint REFERENCES ${tableName(t - 1)}(id)` : 'parent_id bigint']
    for (let c = 2; c < columns; c++) cols.push(`${columnName(c)} ${TYPES[c % 8]}${c % 8 === 2 ? ' NOT NULL DEFAULT 0' : ''}`)
    out.push(`CREATE TABLE ${tableName(t)} (${cols.join(', ')});`)
    out.push(`COMMENT ON TABLE ${tableName(t)} IS '业务记录表 ${t}（第 ${t % 50} 组）';`)
    for (let c = 2; c < columns; c += 3) out.push(`COMMENT ON COLUMN ${tableName(t)}.${columnName(c)} IS '字段 ${c}：业务含义说明';`)
  }
  out.push('COMMIT;')
  return out.join('\n')
}

/** `rows` rows per table with repeating short text (what sampling looks for) in three columns. */
function fillSql(tables, rows) {
  const out = ['BEGIN;']
  for (let t = 0; t < tables; t++) {
    const values = []
    for (let r = 1; r <= rows; r++) values.push(`(${r}, ${t > 0 ? r : 'NULL'}, '站点${r % 7}', 'C${r % 5}', '${['正常', '停用', '检修'][r % 3]}')`)
    out.push(`INSERT INTO ${tableName(t)} (id, parent_id, ${columnName(8)}, ${columnName(9)}, ${columnName(15)}) VALUES ${values.join(', ')};`)
  }
  out.push('COMMIT;')
  return out.join('\n')
}

/**
 * @param {{ tables?: number, columns?: number, reps?: number, log?: (m: string) => void }} options
 */
export async function measureIntrospection({ tables = 2000, columns = 30, reps = 5, log = () => {} } = {}) {
  const pg = await startLocalPostgres()
  try {
    pg.psql('CREATE DATABASE big')
    const t0 = Date.now()
    pg.psql(bigSchemaSql(tables, columns), 'big')
    log(`P9: created ${tables} tables × ${columns} columns in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    // Rows in every table; statistics (ANALYZE) for half of them, so both sampling paths run:
    // values from pg_stats, and direct sampling within INTROSPECT_SAMPLE_BUDGET_MS for the rest.
    pg.psql(fillSql(tables, 20), 'big')
    pg.psql(Array.from({ length: Math.ceil(tables / 2) }, (_, i) => `ANALYZE ${tableName(i * 2)};`).join('\n'), 'big')
    log(`P9: rows and statistics in ${((Date.now() - t0) / 1000).toFixed(1)} s`)

    const worker = await startDevServer({ DATABASE_URL: pg.url('postgres', 'postgres', 'big'), ADMIN_TOKEN: ADMIN, API_KEYS: undefined, DASHSCOPE_API_KEY: undefined, DASHSCOPE_BASE_URL: undefined })
    try {
      const wall = []
      const server = []
      const cpu = []
      const rssGrowth = []
      let last
      for (let i = 0; i < reps; i++) {
        const idleRss = workerdRssKiB(worker.pid)
        let peakRss = idleRss
        const timer = setInterval(() => {
          peakRss = Math.max(peakRss, workerdRssKiB(worker.pid))
        }, 100)
        const ticks0 = workerdCpuTicks(worker.pid)
        const started = performance.now()
        const res = await fetch(`${worker.url}/v1/admin/schema/refresh`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } })
        const text = await res.text()
        let body
        try {
          body = JSON.parse(text)
        } catch {
          throw new Error(`refresh ${i + 1}: ${res.status} ${text.slice(0, 200)}\n--- worker output ---\n${worker.output().slice(-4000)}`)
        }
        const ms = performance.now() - started
        clearInterval(timer)
        peakRss = Math.max(peakRss, workerdRssKiB(worker.pid))
        if (res.status !== 200) throw new Error(`refresh failed: ${res.status} ${JSON.stringify(body)}`)
        wall.push(ms)
        server.push(body.duration_ms)
        cpu.push(((workerdCpuTicks(worker.pid) - ticks0) * 1000) / CLK_TCK)
        rssGrowth.push((peakRss - idleRss) / 1024)
        last = body
        log(`P9: refresh ${i + 1}/${reps}: ${ms.toFixed(0)} ms, ${body.tables} tables, ${body.columns} columns, ${body.parts} part(s)`)
      }
      // The hot path afterwards: /healthz reads the pointer; one read of the whole snapshot body
      // happens on the first question (measured in P8).
      return {
        tables: last.tables,
        columns: last.columns,
        foreignKeys: last.foreign_keys,
        sampledColumns: last.sampled_columns,
        samplingSkipped: last.sampling_skipped,
        bytes: last.bytes,
        storedBytes: last.stored_bytes,
        parts: last.parts,
        timings: last.timings,
        wall: summary(wall),
        server: summary(server),
        cpu: summary(cpu),
        rssGrowthMiB: summary(rssGrowth),
      }
    } finally {
      await worker.stop()
    }
  } finally {
    pg.stop()
  }
}

