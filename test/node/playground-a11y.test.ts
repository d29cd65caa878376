// The playground for keyboard and screen-reader users (issue 26): axe-core over the page idle and
// after an answer with rows and a chart, in both languages, both colour schemes, desktop and phone;
// focus never behind the question box nor on <body>; announcements of meaningful moments only.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { ask, axeViolations, eventually, lastTurn, placement, root, usePlayground, waitSettled, waitState, type AxeViolation } from './playground-harness'

const pw = usePlayground()

/** Moderate rules the audit named: the question box outside any landmark, headings that skip a level. */
const NAMED_MODERATE = ['region', 'heading-order', 'landmark-one-main', 'landmark-unique', 'page-has-heading-one']

describe('axe-core', { timeout: 300_000 }, () => {
  it('finds no serious or critical violation, idle and after an answer with rows and a chart: zh and en, light and dark, desktop and phone', async () => {
    const report: { locale: string; scheme: string; size: string; moment: string; violations: { id: string; impact: string | null; nodes: number }[] }[] = []
    const found: { where: string; id: string; impact: string | null; targets: string[][] }[] = []
    const bad = (v: AxeViolation) => v.impact === 'serious' || v.impact === 'critical' || NAMED_MODERATE.includes(v.id)
    for (const locale of ['zh-CN', 'en-US']) {
      for (const colorScheme of ['light', 'dark'] as const) {
        for (const [size, width, height] of [['desktop', 1280, 900], ['phone', 390, 844]] as const) {
          const page = await pw.open({ locale, colorScheme, width, height })
          const check = async (moment: string) => {
            const violations = await axeViolations(page)
            report.push({ locale, scheme: colorScheme, size, moment, violations: violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })) })
            for (const v of violations.filter(bad)) found.push({ where: `${locale} ${colorScheme} ${size} ${moment}`, id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target) })
          }
          await check('idle')
          await page.locator('.chip', { hasText: '客流量最高的十个站点' }).click()
          await waitSettled(page)
          expect(await lastTurn(page).locator('svg.chart-bar').count()).toBe(1)
          await check('answered')
        }
      }
    }
    // Every combination is written down (for people) before any is judged.
    mkdirSync(join(root, '.artifacts'), { recursive: true })
    writeFileSync(join(root, '.artifacts', 'axe-results.json'), `${JSON.stringify(report, null, 2)}\n`)
    expect(report).toHaveLength(16)
    expect(found).toEqual([])
  })
})

describe('keyboard', { timeout: 120_000 }, () => {
  for (const [size, width, height] of [['desktop', 1280, 900], ['phone', 390, 844]] as const) {
    it(`a focused control is never behind the question box: the corrected-SQL field, then Tab through its buttons (${size})`, async () => {
      const page = await pw.open({ width, height })
      await ask(page, '客流量最高的十个站点')
      await waitSettled(page)
      await ask(page, '沈塘桥地铁站的信息')
      await waitSettled(page)
      await lastTurn(page).locator('.feedback button', { hasText: '错误' }).click()
      const focused = page.locator(':focus')
      expect(await focused.evaluate((el) => el.matches('.corrected textarea'))).toBe(true)
      expect(await placement(focused)).toMatchObject({ visible: true })
      for (const label of ['提交反馈', '取消']) {
        await page.keyboard.press('Tab')
        expect(await focused.textContent()).toBe(label)
        expect(await placement(focused)).toMatchObject({ visible: true })
      }
    })
  }

  it('a SQL block that scrolls sideways can be reached and scrolled by keyboard on a phone', async () => {
    const page = await pw.open({ width: 390, height: 844 })
    await ask(page, '1号线有哪些站点？')
    await waitSettled(page)
    const pre = lastTurn(page).locator('.sql-block pre.sql')
    expect(await pre.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true)
    // Tab from the copy button reaches it: it is in the keyboard's path, not only focusable by script.
    await lastTurn(page).locator('.sql-block .copy').focus()
    await page.keyboard.press('Tab')
    expect(await pre.evaluate((el) => el === document.activeElement)).toBe(true)
    await page.keyboard.press('ArrowRight')
    await eventually(() => pre.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0)
  })

  it('focus never falls to <body>: after feedback, after Stop, after an example', async () => {
    const page = await pw.open()
    const focusedOn = () => page.evaluate(() => (document.activeElement === document.body || !document.activeElement ? 'body' : document.activeElement.className || document.activeElement.id))
    await page.locator('.chip', { hasText: '沈塘桥地铁站的信息' }).click()
    expect(await focusedOn()).not.toBe('body')
    await waitSettled(page)
    // Correct, by keyboard: every button of the box is disabled while it is sent.
    await lastTurn(page).locator('.feedback button', { hasText: '正确' }).focus()
    await page.keyboard.press('Enter')
    await eventually(() => lastTurn(page).locator('.feedback-status').textContent()).toBe('谢谢！已保存为待审核的示例。')
    expect(await focusedOn()).toBe('feedback-status ok')
    // Tab goes on from there, not from the top of the page.
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.closest('header'))).toBeNull()
    expect(await focusedOn()).not.toBe('body')
    // Wrong, with a corrected SQL, by keyboard.
    await ask(page, '1号线有哪些站点？')
    await waitSettled(page)
    await lastTurn(page).locator('.feedback button', { hasText: '错误' }).click()
    await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')
    await eventually(() => lastTurn(page).locator('.feedback-status').textContent()).toMatch(/^谢谢/)
    expect(await focusedOn()).toBe('feedback-status ok')
    // Stop, clicked.
    pw.fake.setDefaultOptions('pace=80')
    await ask(page, '客流量最高的十个站点')
    await page.waitForFunction(() => (document.querySelector('.turn:last-of-type .answer-text')?.textContent ?? '').length >= 10)
    await page.locator('#stop').click()
    await waitState(page, 'stopped')
    expect(await focusedOn()).toBe('question')
  })
})

/** Records what screen readers would announce: each change inside a live region, as the region's text. */
async function recordAnnouncements(page: Page) {
  await page.evaluate(() => {
    const said: string[] = []
    ;(window as unknown as { said: string[] }).said = said
    const liveRegion = (node: Node) => {
      for (let el: Element | null = node instanceof Element ? node : node.parentElement; el; el = el.parentElement) {
        const live = el.getAttribute('aria-live')
        if ((live && live !== 'off') || ['status', 'alert', 'log', 'marquee', 'timer'].includes(el.getAttribute('role') ?? '')) return el
      }
      return null
    }
    new MutationObserver((records) => {
      const regions = new Set(records.map((r) => liveRegion(r.target)).filter((el): el is Element => el !== null))
      for (const region of regions) said.push(region.textContent?.trim() ?? '')
    }).observe(document.body, { subtree: true, childList: true, characterData: true })
  })
  return () => page.evaluate(() => (window as unknown as { said: string[] }).said.filter((text) => text !== ''))
}

describe('screen readers', { timeout: 120_000 }, () => {
  it('hear that an answer is complete, with its verdict and rows — not each piece of text as it streams', async () => {
    pw.fake.setDefaultOptions('pace=20')
    const page = await pw.open()
    const said = await recordAnnouncements(page)
    await page.locator('.chip', { hasText: '客流量最高的十个站点' }).click()
    await waitSettled(page)
    expect(await said()).toEqual(['回答完成：已校验，10 行'])
    // Nothing the answer streams into is inside a live region.
    for (const selector of ['.answer-text', '.reasoning-text', '.status-line', '.result table']) {
      const inLive = await lastTurn(page)
        .locator(selector)
        .evaluate((el) => el.closest('[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]') !== null)
      expect([selector, inLive]).toEqual([selector, false])
    }
    // A stop is said too.
    pw.fake.setDefaultOptions('pace=80')
    await ask(page, '1号线有哪些站点？')
    await page.waitForFunction(() => (document.querySelector('.turn:last-of-type .answer-text')?.textContent ?? '').length >= 10)
    await page.keyboard.press('Escape')
    await waitState(page, 'stopped')
    expect((await said()).at(-1)).toBe('已停止')
  })
})
