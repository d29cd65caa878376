// The playground page (public/) in a real browser: Debian's Chromium driven by playwright-core,
// against `npm start` (wrangler dev) with the fake DashScope and the demo database loaded into a
// real Postgres (test/node/playground-harness.ts). Screenshots go to .artifacts/screenshots/.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript tool
import { composeAnswer } from '../../tools/fake-dashscope/answers.mjs'
import { API_KEY, KEY_STORAGE, dialogue, lastQuestionRecord, eventually, examples, lastTurn, problemsOf, shot, usePlayground, waitForRecord, waitSettled, waitState } from './playground-harness'

const pw = usePlayground()
// Not one of the demo's approved examples (db/demo/examples.sql): those are answered verified, with
// no model call; the tests of the model's path (streaming, stop, feedback, history, errors) ask this.
const MODEL_QUESTION = '沈塘桥站在哪个区？'
const open = pw.open

// Generous: the machine that runs these may be shared and loaded; nothing here measures time.
describe('the playground page at /', { timeout: 120_000 }, () => {
  it('is served by the Worker as static assets, while the API paths still reach the Worker', async () => {
    const page = await fetch(pw.server.url)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(await page.text()).toMatch(/<script type="module" src="\/vendor\/playground\.js\?v=[0-9a-f]{10}"><\/script>/)
    const vendor = await fetch(`${pw.server.url}/vendor/eventsource-parser.js`)
    expect(vendor.headers.get('content-type')).toMatch(/javascript/)
    expect(await vendor.text()).toContain('EventSourceParserStream')
    expect((await (await fetch(`${pw.server.url}/healthz`)).json()).execute).toBe(true)
    const ask = await fetch(`${pw.server.url}/v1/ask`)
    expect([ask.status, ((await ask.json()) as { error: { code: string } }).error.code]).toEqual([405, 'method_not_allowed'])
    const missing = await fetch(`${pw.server.url}/no-such-page`)
    expect([missing.status, ((await missing.json()) as { error: { code: string } }).error.code]).toEqual([404, 'not_found'])
  })

  it('asks for the API key on 401, keeps it in the browser, and answers once it is right', async () => {
    const page = await open({ key: null })
    await page.locator('#question').fill('沈塘桥地铁站的信息')
    await page.locator('#question').press('Enter')
    const dialog = page.locator('#key-dialog')
    await dialog.waitFor({ state: 'visible' })
    const errorId = () => lastTurn(page).locator('.error-id').textContent()
    await eventually(errorId).toMatch(/^请求编号: [0-9a-f-]{36}$/)
    const firstId = await errorId()
    expect(await lastTurn(page).locator('.error-title').textContent()).toBe('错误 · unauthorized')
    expect(await lastTurn(page).locator('.error-message').textContent()).toMatch(/^需要有效的 API 密钥。/)
    // A wrong key: asked again, refused again (another request), the dialog comes back.
    await page.locator('#key-input').fill('wrong-key')
    await page.locator('#key-form button[value=save]').click()
    await eventually(errorId).not.toBe(firstId)
    await dialog.waitFor({ state: 'visible' })
    expect(await lastTurn(page).locator('.error-title').textContent()).toBe('错误 · unauthorized')
    await shot(page, 'error-unauthorized')
    // The right key: the same question is asked again and answered.
    await page.locator('#key-input').fill(API_KEY)
    await page.locator('#key-input').press('Enter')
    await waitState(page, 'done')
    expect(await lastTurn(page).locator('.error').isHidden()).toBe(true)
    // Kept in this tab only (sessionStorage), not on the device, unless asked to remember it.
    expect(await page.evaluate((name) => [sessionStorage.getItem(name), localStorage.getItem(name)], KEY_STORAGE)).toEqual([API_KEY, null])
    // Kept: after a reload the next question goes straight through.
    await page.reload()
    await page.locator('.chip').first().click()
    await waitSettled(page)
    expect(await lastTurn(page).getAttribute('data-state')).toBe('done')
    expect(problemsOf(page)).toEqual([])
  })

  it('keeps the key for the tab by default; "remember on this device" keeps it for a new tab too, until cleared', async () => {
    const page = await open({ key: null })
    const stored = (p: typeof page) => p.evaluate((name) => [sessionStorage.getItem(name), localStorage.getItem(name)], KEY_STORAGE)
    // The service refuses the question without a key, and the dialog asks for it.
    await page.locator('#question').fill('沈塘桥地铁站的信息')
    await page.keyboard.press('Enter')
    await page.locator('#key-dialog').waitFor({ state: 'visible' })
    expect(await page.locator('#remember-input').isChecked()).toBe(false)
    await page.locator('#key-input').fill(API_KEY)
    await page.locator('#key-form button[value=save]').click()
    await eventually(() => stored(page)).toEqual([API_KEY, null])
    await waitSettled(page)
    // A new tab of the same browser does not have it.
    const other = await page.context().newPage()
    await other.goto(pw.server.url)
    expect(await stored(other)).toEqual([null, null])
    // Remembered: in localStorage (and no longer in the tab's copy); a new tab has it.
    await page.locator('#key-button').click()
    await page.locator('#key-dialog').waitFor({ state: 'visible' })
    expect(await page.locator('#key-input').inputValue()).toBe(API_KEY)
    await page.locator('#remember-input').check()
    await page.locator('#key-form button[value=save]').click()
    await eventually(() => stored(page)).toEqual([null, API_KEY])
    const third = await page.context().newPage()
    await third.goto(pw.server.url)
    await third.locator('#key-button').click()
    expect(await third.locator('#key-input').inputValue()).toBe(API_KEY)
    expect(await third.locator('#remember-input').isChecked()).toBe(true)
    // Saved again without it: back to the tab only, forgotten on the device.
    await third.locator('#remember-input').uncheck()
    await third.locator('#key-form button[value=save]').click()
    await eventually(() => stored(third)).toEqual([API_KEY, null])
  })

  it('streams the reasoning before the answer ends, then shows the checked SQL highlighted, with a copy button', async () => {
    pw.fake.setDefaultOptions('think,pace=40,tag=pg-reason')
    const page = await open()
    await page.locator('#question').fill(MODEL_QUESTION)
    await page.keyboard.press('Enter')
    // Reasoning is on screen while the upstream is still writing and no SQL has come yet.
    await page.waitForFunction(() => {
      const turn = document.querySelector<HTMLElement>('.turn:last-of-type')
      return turn?.dataset.state === 'streaming' && (turn.querySelector('.reasoning-text')?.textContent ?? '').length >= 8
    })
    expect(pw.fake.record('pg-reason')!.completed).toBe(false)
    expect(await lastTurn(page).locator('.sql-block').isHidden()).toBe(true)
    expect(await lastTurn(page).locator('details.reasoning').getAttribute('open')).not.toBeNull()
    expect(await page.locator('#stop').isVisible()).toBe(true)
    await eventually(() => lastTurn(page).locator('.elapsed').textContent()).toMatch(/耗时 \d+\.\d s/)
    await shot(page, 'desktop-streaming')
    await waitSettled(page)
    const turn = lastTurn(page)
    expect(await turn.getAttribute('data-state')).toBe('done')
    expect(await turn.locator('.reasoning-text').textContent()).toContain('用户想了解某个地铁站的信息')
    // The reasoning folds away at the end, one click from view.
    expect(await turn.locator('details.reasoning').getAttribute('open')).toBeNull()
    expect(await turn.locator('.check.ok').textContent()).toBe('已校验')
    expect(await turn.locator('.sql-block pre.sql').textContent()).toBe("SELECT *\nFROM stations\nWHERE name LIKE '%沈塘桥%'")
    expect(await turn.locator('.sql-block .tok-keyword').allTextContents()).toEqual(['SELECT', 'FROM', 'WHERE', 'LIKE'])
    expect(await turn.locator('.sql-block .tok-string').textContent()).toBe("'%沈塘桥%'")
    expect(await turn.locator('.tokens').textContent()).toMatch(/^\d+ tokens$/)
    expect(await turn.locator('.elapsed').textContent()).toMatch(/首字 \d+ ms/)
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: pw.server.url })
    await turn.locator('.copy').click()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("SELECT *\nFROM stations\nWHERE name LIKE '%沈塘桥%'")
    await shot(page, 'desktop-answer')
    expect(problemsOf(page)).toEqual([])
  })

  it('Shift+Enter is a new line; Enter sends', async () => {
    const page = await open()
    const box = page.locator('#question')
    await box.fill('第一行')
    await box.press('Shift+Enter')
    await box.pressSequentially('沈塘桥地铁站的信息')
    expect(await box.inputValue()).toBe('第一行\n沈塘桥地铁站的信息')
    expect(await page.locator('.turn').count()).toBe(0)
    await box.press('Enter')
    await waitSettled(page)
    expect(await lastTurn(page).locator('.question-text').textContent()).toBe('第一行\n沈塘桥地铁站的信息')
  })

  it('stops mid-answer: the browser aborts, and the service cancels its DashScope request', async () => {
    pw.fake.setDefaultOptions('pace=80,tag=pg-stop')
    const page = await open()
    await page.locator('#question').fill(MODEL_QUESTION)
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => (document.querySelector('.turn:last-of-type .answer-text')?.textContent ?? '').length >= 10)
    await page.locator('#stop').click()
    await waitSettled(page)
    expect(await lastTurn(page).getAttribute('data-state')).toBe('stopped')
    expect(await lastTurn(page).locator('.state').textContent()).toBe('已停止')
    const record = await waitForRecord(pw.fake, 'pg-stop', (r) => r.closed_early)
    expect(record.completed).toBe(false)
    expect(await page.locator('#send').isVisible()).toBe(true)
    // Esc stops too.
    pw.fake.setDefaultOptions('pace=80,tag=pg-stop-esc')
    await page.locator('#question').fill('1号线经过哪些站？')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => (document.querySelector('.turn:last-of-type .answer-text')?.textContent ?? '').length >= 10)
    await page.keyboard.press('Escape')
    await waitSettled(page)
    expect(await lastTurn(page).getAttribute('data-state')).toBe('stopped')
    expect((await waitForRecord(pw.fake, 'pg-stop-esc', (r) => r.closed_early)).completed).toBe(false)
    expect(problemsOf(page)).toEqual([])
  })

  it('runs the SQL: the rows in a table with a sticky header and right-aligned numbers, a bar chart, CSV export', async () => {
    const page = await open()
    expect(await page.locator('#execute').isChecked()).toBe(true)
    await page.locator('.chip', { hasText: '客流量最高的十个站点' }).click()
    await waitSettled(page)
    const turn = lastTurn(page)
    expect(await turn.locator('.check.ok').count()).toBe(1)
    expect(await turn.locator('.result thead th').allTextContents()).toEqual(['name', 'total_passengers'])
    expect(await turn.locator('.result tbody tr').count()).toBe(10)
    expect(await turn.locator('.row-count').textContent()).toMatch(/^10 行/)
    expect(await turn.locator('.result thead th').first().evaluate((th) => getComputedStyle(th).position)).toBe('sticky')
    expect(await turn.locator('.result tbody tr:first-child td').nth(1).evaluate((td) => getComputedStyle(td).textAlign)).toBe('right')
    expect(await turn.locator('.result tbody tr:first-child td').nth(0).evaluate((td) => getComputedStyle(td).textAlign)).toBe('left')
    // bigint arrives as a string: the chart still reads it as a number.
    expect(await turn.locator('svg.chart-bar rect').count()).toBe(10)
    // Numbers are shown with thousands separators (every digit kept); the CSV has them as they are.
    const shown = (await turn.locator('.result tbody tr:first-child td').nth(1).textContent())!
    expect(shown).toMatch(/^\d{1,3}(,\d{3})+$/)
    const firstTotal = Number(shown.replace(/,/g, ''))
    expect(shown).toBe(new Intl.NumberFormat('zh-CN').format(firstTotal))
    expect(await turn.locator('svg.chart-bar rect title').first().textContent()).toContain(new Intl.NumberFormat('zh-CN').format(firstTotal))
    const [download] = await Promise.all([page.waitForEvent('download'), turn.locator('.result-head button').click()])
    expect(download.suggestedFilename()).toMatch(/^txt2sql-[0-9a-f-]{36}\.csv$/)
    const csv = readFileSync((await download.path())!, 'utf8')
    const lines = csv.replace(/^\ufeff/, '').trimEnd().split('\r\n')
    expect(csv.startsWith('\ufeff')).toBe(true)
    expect(lines[0]).toBe('name,total_passengers')
    expect(lines).toHaveLength(11)
    expect(lines[1]).toBe(`${await turn.locator('.result tbody tr:first-child td').first().textContent()},${firstTotal}`)
    await shot(page, 'desktop-rows-chart')
    expect(problemsOf(page)).toEqual([])
  })

  it('explains the rows in words above the table, asked for with every run (and not without one)', async () => {
    pw.fake.setDefaultOptions('tag=page-summary,pace=10')
    const page = await open()
    await page.locator('.chip', { hasText: '客流量最高的十个站点' }).click()
    // It streams: some of the text is on the page before the answer is done.
    await eventually(() => lastTurn(page).locator('.summary-text').textContent()).toMatch(/^查询共返回/)
    await waitSettled(page)
    const turn = lastTurn(page)
    expect(await turn.locator('.summary-title').textContent()).toBe('结论')
    const text = (await turn.locator('.summary-text').textContent())!
    const firstStation = (await turn.locator('.result tbody tr:first-child td').first().textContent())!
    expect(text).toMatch(/^查询共返回 10 行。第一行是：name 为 /)
    expect(text).toContain(firstStation)
    // Above the table.
    const [summaryBox, tableBox] = await Promise.all([turn.locator('.summary').boundingBox(), turn.locator('.result table').boundingBox()])
    expect(summaryBox!.y + summaryBox!.height).toBeLessThanOrEqual(tableBox!.y)
    expect(JSON.stringify(pw.fake.record('page-summary')!.body)).toContain('【查询结果】')
    await turn.locator('.summary').scrollIntoViewIfNeeded()
    await shot(page, 'desktop-summary')
    // Without a run there is nothing to explain, and nothing is asked for.
    await page.locator('#execute').uncheck()
    pw.fake.setDefaultOptions('tag=page-no-summary')
    await page.locator('#question').fill('1号线有哪些站')
    await page.locator('#question').press('Enter')
    await waitSettled(page)
    expect(await lastTurn(page).locator('.summary').isHidden()).toBe(true)
    expect(pw.fake.records('page-no-summary')).toHaveLength(1)
    expect(problemsOf(page)).toEqual([])
  })

  it('draws a line for a date label', async () => {
    const sql = 'SELECT day, SUM(entries) AS entries, SUM(exits) AS exits FROM daily_ridership GROUP BY day ORDER BY day'
    pw.fake.setDefaultOptions(`answer=${encodeURIComponent(`按日期汇总进出站人次。\n\`\`\`sql\n${sql}\n\`\`\``)}`)
    const page = await open()
    await page.locator('#question').fill('每天的进出站人次')
    await page.keyboard.press('Enter')
    await waitSettled(page)
    const turn = lastTurn(page)
    expect(await turn.locator('.result tbody tr').count()).toBe(35)
    expect(await turn.locator('svg.chart-line polyline').count()).toBe(2)
    expect(await turn.locator('svg.chart-bar').count()).toBe(0)
    expect(await turn.locator('figcaption .legend-item').allTextContents()).toEqual(['entries', 'exits'])
    await shot(page, 'desktop-line')
  })

  it('says when the rows were truncated, and draws no chart over repeated labels', async () => {
    pw.fake.setDefaultOptions(`answer=${encodeURIComponent('全部客流记录。\n```sql\nSELECT * FROM daily_ridership ORDER BY day, station_id\n```')}`)
    const page = await open()
    await page.locator('#question').fill('全部客流记录')
    await page.keyboard.press('Enter')
    await waitSettled(page)
    const turn = lastTurn(page)
    expect(await turn.locator('.result tbody tr').count()).toBe(500)
    expect(await turn.locator('.row-count').textContent()).toMatch(/^500 行/)
    expect(await turn.locator('.result-note').textContent()).toBe('仅显示前 500 行：结果超过了服务的行数或大小上限')
    expect(await turn.locator('svg.chart').count()).toBe(0)
  })

  it('stores feedback: correct keeps the answer as an example, wrong with a corrected SQL keeps that', async () => {
    const page = await open()
    await page.locator('#question').fill(MODEL_QUESTION)
    await page.keyboard.press('Enter')
    await waitSettled(page)
    let turn = lastTurn(page)
    await turn.locator('.feedback button', { hasText: '正确' }).click()
    await eventually(() => turn.locator('.feedback-status').textContent()).toBe('谢谢！已保存为待审核的示例。')
    expect(examples(pw.pg)).toEqual([{ question: MODEL_QUESTION, sql: "SELECT *\nFROM stations\nWHERE name LIKE '%沈塘桥%'", source: 'feedback', approved: false }])

    await page.locator('#new-conversation').click()
    await page.locator('#question').fill('1号线有哪些站点？')
    await page.keyboard.press('Enter')
    await waitSettled(page)
    turn = lastTurn(page)
    await turn.locator('.feedback button', { hasText: '错误' }).click()
    const corrected = "SELECT s.name FROM stations s JOIN station_lines sl ON sl.station_id = s.id WHERE sl.line_id = 1 ORDER BY sl.seq"
    await turn.locator('.corrected textarea').fill(corrected)
    await turn.locator('.corrected button', { hasText: '提交反馈' }).click()
    await eventually(() => turn.locator('.feedback-status').textContent()).toBe('谢谢！已保存为待审核的示例。')
    expect(examples(pw.pg)[1]).toEqual({ question: '1号线有哪些站点？', sql: corrected, source: 'feedback-corrected', approved: false })

    // A refusal is shown with its code, and the buttons come back to try again.
    await page.locator('#question').fill(MODEL_QUESTION)
    await page.keyboard.press('Enter')
    await waitSettled(page)
    turn = lastTurn(page)
    await page.route('**/v1/feedback', (route) =>
      route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ error: { code: 'request_not_found', message: 'No answer with this request id' } }) }),
    )
    await turn.locator('.feedback button', { hasText: '正确' }).click()
    await eventually(() => turn.locator('.feedback-status').textContent()).toBe('错误 · request_not_found: 这次回答已过期或不存在，无法反馈。 No answer with this request id')
    expect(await turn.locator('.feedback button', { hasText: '正确' }).isEnabled()).toBe(true)
    expect(problemsOf(page)).toEqual([])
  })

  it('asks follow-ups with the conversation as history; a new conversation starts without it', async () => {
    pw.fake.setDefaultOptions('tag=pg-follow')
    const page = await open()
    await page.locator('#question').fill(MODEL_QUESTION)
    await page.keyboard.press('Enter')
    await waitSettled(page)
    const firstAnswer = (Array.from(composeAnswer(MODEL_QUESTION).text()) as string[]).join('')
    expect(dialogue(lastQuestionRecord(pw.fake, 'pg-follow')!)).toHaveLength(1)

    await page.locator('#question').fill('它在哪个区？')
    await page.keyboard.press('Enter')
    await waitSettled(page)
    const sent = dialogue(lastQuestionRecord(pw.fake, 'pg-follow')!)
    expect(sent.slice(0, 2)).toEqual([
      { role: 'user', content: MODEL_QUESTION },
      { role: 'assistant', content: firstAnswer.trim() },
    ])
    expect(sent.at(-1)!.content).toContain('它在哪个区？')
    expect(await page.locator('.turn').count()).toBe(2)

    await page.locator('#new-conversation').click()
    expect(await page.locator('.turn').count()).toBe(0)
    await page.locator('#question').fill('客流量最大的站点有哪些？')
    await page.keyboard.press('Enter')
    await waitSettled(page)
    expect(dialogue(lastQuestionRecord(pw.fake, 'pg-follow')!)).toHaveLength(1)
  })

  it('shows an upstream refusal as a readable message with its code, and an error mid-stream too', async () => {
    pw.fake.setDefaultOptions('status=429')
    const page = await open()
    await page.locator('#question').fill(MODEL_QUESTION)
    await page.keyboard.press('Enter')
    await waitSettled(page)
    let turn = lastTurn(page)
    expect(await turn.getAttribute('data-state')).toBe('failed')
    expect(await turn.locator('.error-title').textContent()).toBe('错误 · upstream_throttled')
    expect(await turn.locator('.error-message').textContent()).toMatch(/^模型服务繁忙，请稍后重试。 .+ 2 秒后可重试。$/)
    await shot(page, 'error-throttled')
    // Retry once the upstream recovers: the same turn is answered.
    pw.fake.setDefaultOptions('')
    await turn.locator('.error-buttons button', { hasText: '重试' }).click()
    await waitSettled(page)
    expect(await turn.getAttribute('data-state')).toBe('done')
    expect(await turn.locator('.error').isHidden()).toBe(true)

    pw.fake.setDefaultOptions('error_at=12')
    await page.locator('#question').fill(MODEL_QUESTION)
    await page.keyboard.press('Enter')
    await waitSettled(page)
    turn = lastTurn(page)
    expect(await turn.getAttribute('data-state')).toBe('failed')
    expect(await turn.locator('.error-title').textContent()).toBe('错误 · upstream_error')
    expect((await turn.locator('.answer-text').textContent())!.length).toBeGreaterThan(0)
  })

  it('marks a verified answer ✓ 已验证 and folds what an answer was built from under it (依据)', async () => {
    const page = await open()
    // The service's events for a verified answer, as docs/API.md gives them (the page draws what it is sent).
    const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
    const sql = "SELECT * FROM stations WHERE name LIKE '%武林广场%'"
    const body =
      sse('meta', { request_id: crypto.randomUUID(), model: 'qwen-plus', schema_version: 'pg-1', tables: ['stations'], examples: [{ id: '12', similarity: 0.8 }], glossary: ['换乘站'], verified: { example_id: '12', approved_at: '2026-12-01T08:00:00.000Z', substituted: { column: 'stations.name', from: '沈塘桥', to: '武林广场' } } }) +
      sse('delta', { text: `✓ 已验证的查询（示例 #12，沈塘桥 → 武林广场）\n\n\`\`\`sql\n${sql}\n\`\`\`\n` }) +
      sse('sql', { sql, ok: true, checked: true, plan_rows: 1, plan_cost: 1 }) +
      sse('done', { finish_reason: 'stop', ttft_ms: 5, total_ms: 60 })
    await page.route('**/v1/ask', (route) => route.fulfill({ status: 200, contentType: 'text/event-stream; charset=utf-8', body }))
    await page.locator('#question').fill('武林广场地铁站的信息')
    await page.keyboard.press('Enter')
    await waitSettled(page)
    const turn = lastTurn(page)
    expect(await turn.locator('.verified-mark').textContent()).toBe('✓ 已验证')
    expect(await turn.locator('.verified-mark').getAttribute('title')).toContain('#12')
    const basis = turn.locator('details.basis')
    expect(await basis.locator('summary').textContent()).toBe('依据')
    expect(await basis.getAttribute('open')).toBeNull()
    await basis.locator('summary').click()
    expect(await basis.locator('dl').innerText()).toMatch(/示例\s+#12 \(0\.8\)\s+术语\s+换乘站\s+表\s+stations/)
    // The next answer, from the model, carries no mark.
    await page.unroute('**/v1/ask')
    await page.locator('#question').fill('换乘站有哪些')
    await page.keyboard.press('Enter')
    await waitSettled(page)
    expect(await lastTurn(page).locator('.verified-mark').count()).toBe(0)
    expect(problemsOf(page)).toEqual([])
  })

  it('says a question cannot be answered instead of showing a guess', async () => {
    pw.fake.setDefaultOptions('tag=page-declined')
    const page = await open()
    await page.locator('#question').fill('明天杭州会下雨吗')
    await page.keyboard.press('Enter')
    await waitSettled(page)
    const turn = lastTurn(page)
    expect(await turn.getAttribute('data-state')).toBe('done')
    expect(await turn.locator('.check').textContent()).toBe('无法回答')
    expect((await turn.locator('.check-detail').textContent())!.length).toBeGreaterThan(0)
    expect(await turn.locator('.sql-block pre.sql').isHidden()).toBe(true)
    // Declined by linking: DashScope was never asked.
    expect(pw.fake.record('page-declined')?.seen ?? false).toBe(false)
    await shot(page, 'unanswerable')
  })

  it('shows a failed check with Postgres\'s message and the repair round as such', async () => {
    const fence = (sql: string) => `我来写查询。\n\`\`\`sql\n${sql}\n\`\`\``
    pw.fake.setDefaultOptions(`answer=${encodeURIComponent(fence('SELECT nme FROM stations'))},repair=${encodeURIComponent(fence('SELECT nom FROM stations'))}`)
    const page = await open()
    await page.locator('#question').fill('列出站名')
    await page.keyboard.press('Enter')
    await waitSettled(page)
    const turn = lastTurn(page)
    // Once the second attempt is in, the notice no longer says the model is repairing.
    expect(await turn.locator('.repair-head').textContent()).toBe('第一次的 SQL 未通过校验，下面是模型的第二次回答')
    expect(await turn.locator('.repair .pg-error').textContent()).toBe('column "nme" does not exist (位置 8)')
    expect(await turn.locator('.repair .tok-error').textContent()).toBe('nme')
    expect(await turn.locator('.sql-block .check.failed').textContent()).toBe('校验未通过')
    expect(await turn.locator('.sql-block .check.repaired').textContent()).toBe('已修正')
    expect(await turn.locator('.check-detail').textContent()).toBe('column "nom" does not exist (位置 8) [42703]')
    expect(await turn.locator('.sql-block .tok-error').textContent()).toBe('nom')
    await shot(page, 'desktop-repair-failed')
  })

  it('speaks English to an English browser and fits a phone screen', async () => {
    const page = await open({ locale: 'en-US', width: 390, height: 844 })
    expect(await page.locator('html').getAttribute('lang')).toBe('en')
    expect(await page.locator('#send').textContent()).toBe('Send')
    expect(await page.locator('label[for=question]').textContent()).toBe('Question')
    // The placeholder asks for a question in the page's language; it does not look like one already typed.
    expect(await page.locator('#question').getAttribute('placeholder')).toBe('Ask a question about the data…')
    await page.locator('.chip', { hasText: '客流量最高的十个站点' }).click()
    await waitSettled(page)
    expect(await lastTurn(page).locator('.check.ok').textContent()).toBe('Checked')
    expect(await lastTurn(page).locator('.feedback-question').textContent()).toBe('Is this SQL right?')
    // Nothing wider than the screen: the table scrolls inside its own box.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await shot(page, 'phone-en')
    expect(problemsOf(page)).toEqual([])
  })

  it('shows fenced code in the answer as a block even when its backticks arrive split across deltas', async () => {
    const page = await open()
    const answer = '先看站点表。\n```sql\nSELECT name FROM stations;\n```\n完毕，`x` 不是代码块。'
    // A string, so that vitest leaves the browser's dynamic import alone.
    const render = (cuts: number[]) =>
      page.evaluate(`(async () => {
        const { createAnswerWriter } = await import('/js/answer-text.js')
        const text = ${JSON.stringify(answer)}
        const box = document.createElement('div')
        const writer = createAnswerWriter(box)
        let at = 0
        for (const cut of [...${JSON.stringify(cuts)}, text.length]) {
          writer.append(text.slice(at, cut))
          at = cut
        }
        writer.finish()
        return { text: box.textContent, code: Array.from(box.querySelectorAll('pre code'), (c) => c.textContent), keywords: box.querySelectorAll('.tok-keyword').length }
      })()`)
    const whole = await render([])
    expect(whole).toEqual({ text: '先看站点表。SELECT name FROM stations;完毕，`x` 不是代码块。', code: ['SELECT name FROM stations;'], keywords: 2 })
    // Every cut inside and around both fences gives the same page.
    for (let cut = 5; cut < 40; cut++) expect(await render([cut, cut + 1])).toEqual(whole)
  })

  it('every control is labelled and reachable by keyboard', async () => {
    const page = await open()
    const unlabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll('button, input, textarea, a'))
        .filter((el) => !(el as HTMLElement).hidden && (el as HTMLElement).offsetParent !== null)
        .filter((el) => {
          const name = (el.getAttribute('aria-label') ?? '') + (el.textContent ?? '').trim() + ((el as HTMLInputElement).labels?.[0]?.textContent ?? '')
          return name.trim() === ''
        })
        .map((el) => el.outerHTML),
    )
    expect(unlabelled).toEqual([])
    // Tab from the top reaches the question box, and Enter there sends.
    const reached: string[] = []
    for (let i = 0; i < 12 && !reached.includes('question'); i++) {
      await page.keyboard.press('Tab')
      reached.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent || ''))
    }
    expect(reached).toContain('question')
    await page.keyboard.type('沈塘桥地铁站的信息')
    await page.keyboard.press('Enter')
    await waitSettled(page)
    expect(await lastTurn(page).getAttribute('data-state')).toBe('done')
  })
})
