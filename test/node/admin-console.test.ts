// The admin console (/admin/, issue 32) in Debian's Chromium against `npm start` on the demo
// database: a person signs in with a JWT of an admin role, reviews feedback sent from the
// playground (Postgres's verdict as they type, rows previewed), approves and rejects, edits the
// glossary, refreshes the schema and previews a role, and reads accuracy and usage — keyboard
// only, axe-core clean at desktop and phone sizes in both colour schemes. A JWT without an admin
// role is told so.
import { sign } from 'hono/jwt'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { axeViolations, eventually, lastTurn, problemsOf, shot, usePlayground, waitSettled, type AxeViolation } from './playground-harness'

const JWT_SECRET = 'console-test-secret-0123456789abcdef'
const ADMIN_SUB = 'dana@example.com'
const pw = usePlayground({ JWT_SECRET, ADMIN_ROLES: 'data_team', DB_ROLES: 'analyst_a' })

const token = (claims: Record<string, unknown>) => sign({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims }, JWT_SECRET, 'HS256')
const adminToken = () => token({ sub: ADMIN_SUB, role: 'data_team' })

/** The console at `hash`, in a profile of its own, signed in by pasting `jwt` into the dialog (keyboard only). */
async function openConsole(jwt: string | null, { hash = 'review', locale = 'zh-CN', width = 1280, height = 900, colorScheme = 'light' as 'light' | 'dark' } = {}): Promise<Page> {
  const page = await pw.open({ key: null, wait: false, locale, width, height, colorScheme })
  await page.goto(`${pw.server.url}/admin/#${hash}`)
  // No token yet: the console asks for one.
  await page.locator('#sign-in-dialog[open]').waitFor()
  if (jwt === null) return page
  await page.locator('#token-input').focus()
  await page.keyboard.type(jwt)
  await page.keyboard.press('Enter')
  return page
}

/** Sends feedback from the playground as a user would: ask, then "wrong" with a corrected SQL (or "correct"). Returns the model's SQL the playground showed. */
async function feedbackFromPlayground(question: string, corrected: string | null): Promise<string> {
  const page = await pw.open()
  await page.locator('#question').fill(question)
  await page.keyboard.press('Enter')
  await waitSettled(page)
  const turn = lastTurn(page)
  const modelSql = ((await turn.locator('.sql-block pre.sql').textContent()) ?? '').trim()
  if (corrected === null) {
    await turn.locator('.feedback button', { hasText: '正确' }).click()
  } else {
    await turn.locator('.feedback button', { hasText: '错误' }).click()
    await turn.locator('.corrected textarea').fill(corrected)
    await turn.locator('.corrected button', { hasText: '提交反馈' }).click()
  }
  await eventually(() => turn.locator('.feedback-status').textContent()).toBe('谢谢！已保存为待审核的示例。')
  return modelSql
}

/** The card of `question` in a section's list (#review-list, #examples-list): hidden sections keep theirs. */
const card = (page: Page, question: string, list = '#review-list') => page.locator(`${list} article.card`, { has: page.locator('h3', { hasText: question }) })

describe('the admin console', { timeout: 300_000 }, () => {
  it('is served like the playground: a revalidated page under a same-origin CSP, its script and stylesheet kept by content hash', async () => {
    const page = await fetch(`${pw.server.url}/admin/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('cache-control')).toBe('no-cache')
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/)
    const html = await page.text()
    const script = /src="(\/vendor\/admin\.js\?v=[0-9a-f]{10})"/.exec(html)?.[1]
    expect(script).toBeDefined()
    const asset = await fetch(`${pw.server.url}${script}`)
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
  })

  it('a JWT whose role is no admin role is told so, and sees no section', async () => {
    const page = await openConsole(await token({ sub: 'carol', role: 'analyst_a' }))
    await eventually(() => page.locator('#notice').textContent()).toMatch(/没有管理员角色.*ADMIN_ROLES/)
    expect(await page.locator('#review').isHidden()).toBe(true)
    expect(await page.locator('#signed-in').textContent()).toBe('未登录')
  })

  it('reviews playground feedback: invalid SQL shows Postgres\'s error before saving, approval is signed by the person, a rejection stays', async () => {
    const corrected = 'SELECT s.name FROM stations s JOIN station_lines sl ON sl.station_id = s.id WHERE sl.line_id = 1 ORDER BY sl.seq'
    const modelSql = await feedbackFromPlayground('1号线有哪些站点？', corrected)
    expect(modelSql).toMatch(/^SELECT /)
    expect(modelSql).not.toBe(corrected)
    // Not a demo example's question (db/demo/examples.sql): its answer, the model's, is a new pair for the queue.
    await feedbackFromPlayground('沈塘桥站在哪个区？', null)

    const page = await openConsole(await adminToken())
    await eventually(() => page.locator('#signed-in').textContent()).toBe(`已登录：${ADMIN_SUB}`)
    const item = card(page, '1号线有哪些站点？')
    await item.waitFor()
    expect(await item.locator('textarea').inputValue()).toBe(corrected)
    expect(await item.locator('.facts').textContent()).toMatch(/feedback-corrected/)
    // The model's SQL beside the correction, side by side, each named.
    expect(await item.locator('.sql-compare .model-side .side-label').textContent()).toBe('模型的 SQL')
    expect(await item.locator('.sql-compare .model-side pre.model-sql').textContent()).toBe(modelSql)
    expect(await item.locator('.sql-compare .corrected-side label').textContent()).toBe('更正后的 SQL')
    expect(await item.locator('.sql-compare .corrected-side textarea').inputValue()).toBe(corrected)
    expect(pw.pg.psql("SELECT model_sql FROM txt2sql_examples WHERE question = '1号线有哪些站点？' AND source = 'feedback-corrected'", 'metro').trim()).toBe(modelSql)
    const [model, correction] = await Promise.all([item.locator('.model-side').boundingBox(), item.locator('.corrected-side').boundingBox()])
    expect(model!.x + model!.width).toBeLessThanOrEqual(correction!.x)
    expect(model!.y).toBe(correction!.y)
    expect(await item.locator('.verdict').textContent()).toBe('Postgres 校验: 通过')

    // Edited to something invalid: Postgres's error shows while typing, nothing is saved.
    await item.locator('textarea').fill('SELECT nam FROM stations')
    await eventually(() => item.locator('.verdict').textContent()).toMatch(/未通过：.*nam/)
    // The demo ships an approved example of the same question (db/demo/examples.sql): this test's is the corrected feedback.
    expect(pw.pg.psql("SELECT sql FROM txt2sql_examples WHERE question = '1号线有哪些站点？' AND source = 'feedback-corrected'", 'metro').trim()).toBe(corrected)
    // Back to the right SQL: passed; its rows previewed, read-only and capped.
    await item.locator('textarea').fill(corrected)
    await eventually(() => item.locator('.verdict').textContent()).toBe('Postgres 校验: 通过')
    await item.locator('button', { hasText: '预览结果' }).click()
    await eventually(() => item.locator('.preview tbody tr').count()).toBeGreaterThan(0)
    expect(await item.locator('.preview tbody tr').count()).toBeLessThanOrEqual(20)
    await shot(page, 'admin-review')

    await item.locator('button', { hasText: '批准' }).click()
    await eventually(() => page.locator('#notice').textContent()).toBe('批准：完成')
    await eventually(() => card(page, '1号线有哪些站点？').count()).toBe(0)

    // The other one is rejected with a reason.
    const other = card(page, '沈塘桥站在哪个区？')
    await other.locator('input.reason').fill('太宽泛')
    await other.locator('button', { hasText: '拒绝' }).click()
    await eventually(() => card(page, '沈塘桥站在哪个区？').count()).toBe(0)

    // Under examples: approved by that person; the rejected one with who and why.
    await page.locator('nav a', { hasText: '示例' }).click()
    await page.locator('#examples-status').selectOption('approved')
    await page.locator('#examples-filter button[type=submit]').click()
    // The demo's own example of that question is approved too: the reviewed one is the one with the model's SQL beside it.
    const approved = card(page, '1号线有哪些站点？', '#examples-list').filter({ has: page.locator('pre.model-sql') })
    await eventually(() => approved.locator('.facts').textContent()).toMatch(new RegExp(`由 ${ADMIN_SUB} 于 .* 批准`))
    expect(pw.pg.psql("SELECT approved_by || ' ' || status FROM txt2sql_examples WHERE question = '1号线有哪些站点？' AND source = 'feedback-corrected'", 'metro').trim()).toBe(`${ADMIN_SUB} approved`)

    await page.locator('#examples-status').selectOption('rejected')
    await page.locator('#examples-filter button[type=submit]').click()
    await eventually(() => card(page, '沈塘桥站在哪个区？', '#examples-list').locator('.facts').textContent()).toMatch(new RegExp(`由 ${ADMIN_SUB} 拒绝：太宽泛`))
    // Reloaded, the queue still does not have it: a rejection is a state, not a hiding.
    await page.goto(`${pw.server.url}/admin/#review`)
    await page.reload()
    await eventually(() => page.locator('#review-status').textContent()).toMatch(/条|没有条目/)
    expect(await card(page, '沈塘桥站在哪个区？').count()).toBe(0)
    expect(problemsOf(page)).toEqual([])

    // The approved question, asked again in the playground, comes back verified (no model call).
    const playground = await pw.open()
    await playground.locator('#question').fill('1号线有哪些站点？')
    await playground.keyboard.press('Enter')
    await waitSettled(playground)
    await eventually(() => lastTurn(playground).locator('.verified-mark.verified').textContent()).toBe('✓ 已验证')
    // Verified by either approved example of the question: the demo's or this one (both read station_lines).
    expect(await lastTurn(playground).locator('.sql-code, pre, code').first().textContent()).toContain('station_lines')
  })

  it('refuses a glossary term naming an unknown column, with the reason: said as it is typed, and at saving', async () => {
    const page = await openConsole(await adminToken(), { hash: 'glossary' })
    await eventually(() => page.locator('#glossary-text').inputValue()).toMatch(/terms/)
    await page.locator('#glossary-text').fill(JSON.stringify({ terms: [{ term: '客流', definition: '进站人数', columns: ['stations.name'] }] }))
    await eventually(() => page.locator('#glossary-result').textContent()).toMatch(/所有引用都存在/)
    // Typed, not saved: the unknown column is said at once.
    await page.locator('#glossary-text').fill(JSON.stringify({ terms: [{ term: '客流', definition: '进站人数', columns: ['stations.ridership_nope'] }] }))
    await eventually(() => page.locator('#glossary-result').textContent()).toMatch(/stations\.ridership_nope.*unknown_column/)
    await page.locator('#glossary-result').evaluate((el) => el.replaceChildren())
    await page.locator('#glossary-save').click()
    await eventually(() => page.locator('#glossary-result').textContent()).toMatch(/stations\.ridership_nope.*unknown_column/)
    expect(await page.locator('#glossary-result').getAttribute('data-state')).toBe('bad')
  })

  it('refreshes the schema and previews a role: what analyst_a cannot read is hidden', async () => {
    pw.pg.psql(`DO $$ BEGIN CREATE ROLE analyst_a NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
      GRANT USAGE ON SCHEMA public TO analyst_a; GRANT SELECT ON lines TO analyst_a; GRANT SELECT (id, name) ON stations TO analyst_a;`, 'metro')
    const page = await openConsole(await adminToken(), { hash: 'schema' })
    await page.locator('#schema-refresh').click()
    await eventually(() => page.locator('#schema-result').textContent()).toMatch(/"ok": true|"version"/)
    await eventually(() => page.locator('#role-select option').allTextContents()).toContain('analyst_a')
    await page.locator('#role-select').selectOption('analyst_a')
    await page.locator('#role-preview').click()
    const rows = page.locator('#role-view tbody tr')
    await eventually(() => rows.count()).toBe(2)
    expect(await rows.allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^public\.lines/), expect.stringMatching(/^public\.stationsid, name/)]))
    expect(await page.locator('#role-view .hidden-tables').textContent()).toMatch(/public\.station_lines/)
  })

  it('shows the day\'s requests under usage on the defaults (no daily budget)', async () => {
    await feedbackFromPlayground('最早开通的站点有哪些？', null)
    const page = await openConsole(await adminToken(), { hash: 'usage' })
    const today = new Date().toISOString().slice(0, 10)
    await eventually(() => page.locator('#usage-table tbody tr').first().textContent()).toContain(today)
    const requests = Number(await page.locator('#usage-table tbody tr').first().locator('td').nth(2).textContent())
    expect(requests).toBeGreaterThanOrEqual(1)
    expect(await page.locator('#usage-chart svg rect').count()).toBe(14)
  })

  it('imports examples from a CSV (checked, signed by the person) and exports the list as CSV in the same format', async () => {
    const page = await openConsole(await adminToken(), { hash: 'examples' })
    await eventually(() => page.locator('#signed-in').textContent()).toBe(`已登录：${ADMIN_SUB}`)
    const csv = 'question,sql\n最长的线路,"SELECT name FROM lines ORDER BY id DESC LIMIT 1"\n'
    await page.locator('#examples-import').setInputFiles({ name: 'pairs.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) })
    await eventually(() => page.locator('#notice').textContent()).toBe('导入 1 条（重复 0 条）')
    await page.locator('#examples-status').selectOption('approved')
    await page.locator('#examples-q').fill('最长的线路')
    await page.locator('#examples-filter button[type=submit]').click()
    await eventually(() => page.locator('#examples-list article.card').count()).toBe(1)
    expect(await card(page, '最长的线路', '#examples-list').locator('.facts').textContent()).toMatch(new RegExp(`提交者${ADMIN_SUB}`))
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#examples-export').click()])
    const { readFileSync } = await import('node:fs')
    const exported = readFileSync((await download.path())!, 'utf8')
    expect(exported).toBe('\ufeffquestion,sql,approved\r\n最长的线路,SELECT name FROM lines ORDER BY id DESC LIMIT 1,true\r\n')
    // A CSV whose SQL fails the check is refused whole, with the line and Postgres's reason.
    await page.locator('#examples-import').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('question,sql\n坏的,SELECT nope FROM lines\n') })
    await eventually(() => page.locator('#notice').textContent()).toMatch(/失败：.*row 2.*nope/)
  })

  it('says so when no eval report is stored yet', async () => {
    const page = await openConsole(await adminToken(), { hash: 'accuracy' })
    await eventually(() => page.locator('#accuracy-body').textContent()).toMatch(/评测报告/)
  })

  it('shows stored eval reports: accuracy over time and the latest one\'s miss side by side', async () => {
    const miss = { example_id: '7', question: '1号线有哪些站点？', gold_sql: 'SELECT name FROM stations WHERE line_id = 1', answer_sql: 'SELECT name FROM stations', reason: 'extra_rows', gold_rows: [['沈塘桥']], answer_rows: [['沈塘桥'], ['武林广场']] }
    // The stored report names every reason (issue 31's schema requires each key).
    const byReason = (extra: number) => ({ sql_error: 0, refused: 0, unanswerable: 0, empty_result: 0, missing_rows: 0, extra_rows: extra, wrong_values: 0, column_mismatch: 0 })
    const reports = [
      { at: '2026-12-01T08:00:00Z', model: 'qwen-plus', total: 10, hits: 7, accuracy: 70, misses_by_reason: byReason(3), misses: [] },
      { at: '2026-12-07T08:00:00Z', model: 'qwen-plus', total: 10, hits: 9, accuracy: 90, misses_by_reason: byReason(1), misses: [miss] },
    ]
    // Uploaded as `eval:live --approved` stores them (POST /v1/admin/evals), signed in as the person.
    const jwt = await adminToken()
    for (const report of reports) {
      const res = await fetch(`${pw.server.url}/v1/admin/evals`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` }, body: JSON.stringify(report) })
      expect([res.status, res.status === 201 ? '' : await res.text()]).toEqual([201, ''])
    }
    const page = await openConsole(jwt, { hash: 'accuracy' })
    const rows = page.locator('#accuracy-body > .table-wrap tbody tr')
    await eventually(() => rows.first().textContent()).toMatch(/90\.0% \(9 \/ 10\)/)
    expect(await rows.nth(1).textContent()).toMatch(/70\.0% \(7 \/ 10\)/)
    const opened = page.locator('details.miss[open]')
    expect(await opened.locator('summary').textContent()).toBe('1号线有哪些站点？ — extra_rows')
    const sides = opened.locator('.side')
    expect(await sides.nth(0).locator('pre').textContent()).toBe(miss.gold_sql)
    expect(await sides.nth(1).locator('pre').textContent()).toBe(miss.answer_sql)
    expect(await sides.nth(0).locator('tbody tr').count()).toBe(1)
    expect(await sides.nth(1).locator('tbody tr').count()).toBe(2)
  })

  // At both sizes, in turn: each run first approves (through the admin API) the examples of that question, so the run before's withdrawal is undone.
  for (const [size, width, height] of [['desktop', 1280, 900], ['phone', 390, 844]] as const) it(`works by keyboard only at ${size} size (${width} px): sign in, go to examples, filter`, async () => {
    const ids = pw.pg.psql("SELECT id FROM txt2sql_examples WHERE question = '1号线有哪些站点？' AND check_ok IS NOT FALSE ORDER BY id", 'metro').trim().split('\n')
    expect(ids.length).toBeGreaterThan(0)
    for (const id of ids) {
      const approved = await fetch(`${pw.server.url}/v1/admin/examples/${id}/approve?refresh=true`, { method: 'POST', headers: { authorization: `Bearer ${await adminToken()}` } })
      expect(approved.status).toBe(200)
    }
    const page = await pw.open({ key: null, wait: false, width, height })
    await page.goto(`${pw.server.url}/admin/`)
    await page.locator('#sign-in-dialog[open]').waitFor()
    // The dialog has the focus on its field.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token-input')
    await page.keyboard.type(await adminToken())
    await page.keyboard.press('Enter')
    await eventually(() => page.locator('#signed-in').textContent()).toBe(`已登录：${ADMIN_SUB}`)
    // Tab to the "examples" link and follow it.
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab')
      if ((await page.evaluate(() => document.activeElement?.textContent)) === '示例') break
    }
    await page.keyboard.press('Enter')
    await eventually(() => page.locator('#examples').isVisible()).toBe(true)
    await page.locator('#examples-status').focus()
    await page.keyboard.press('ArrowDown')
    await page.locator('#examples-q').focus()
    await page.keyboard.type('1号线')
    await page.keyboard.press('Enter')
    await eventually(() => page.locator('#examples-status-line').textContent()).toMatch(/条/)
    // Tab on to the first card's unapprove button and press it: the card goes, the focus does not fall to the page's top.
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab')
      if ((await page.evaluate(() => document.activeElement?.textContent)) === '撤销批准') break
    }
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('撤销批准')
    await page.keyboard.press('Enter')
    await eventually(() => page.locator('#notice').textContent()).toBe('撤销批准：完成')
    await eventually(() => page.evaluate(() => document.activeElement?.id)).toBe('examples-title')
    // The first card is the question's oldest example: it is the one withdrawn, by that person.
    expect(pw.pg.psql("SELECT status || ' ' || updated_by FROM txt2sql_examples WHERE question = '1号线有哪些站点？' ORDER BY id LIMIT 1", 'metro').trim()).toBe(`pending ${ADMIN_SUB}`)
  })

  it('axe-core finds no serious or critical violation: the queue and usage, zh and en, light and dark, desktop and phone', async () => {
    await feedbackFromPlayground('客流量最高的十个站点', 'SELECT name FROM stations ORDER BY id LIMIT 10')
    const found: { where: string; id: string; impact: string | null; targets: string[][] }[] = []
    const bad = (v: AxeViolation) => v.impact === 'serious' || v.impact === 'critical'
    for (const locale of ['zh-CN', 'en-US']) {
      for (const colorScheme of ['light', 'dark'] as const) {
        for (const [size, width, height] of [['desktop', 1280, 900], ['phone', 390, 844]] as const) {
          const page = await openConsole(await adminToken(), { locale, colorScheme, width, height })
          await page.locator('article.card').first().waitFor()
          for (const v of (await axeViolations(page)).filter(bad)) found.push({ where: `${locale} ${colorScheme} ${size} review`, id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target) })
          await page.goto(`${pw.server.url}/admin/#usage`)
          await page.locator('#usage-table tbody tr').first().waitFor()
          for (const v of (await axeViolations(page)).filter(bad)) found.push({ where: `${locale} ${colorScheme} ${size} usage`, id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target) })
          if (size === 'phone' && colorScheme === 'dark') await shot(page, `admin-usage-${locale}-phone-dark`)
        }
      }
    }
    expect(found).toEqual([])
  })
})
