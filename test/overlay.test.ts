import { describe, expect, it } from 'vitest'
import { applyOverlay, columnsWithoutSamples, OverlaySchema, privateColumnKey } from '../src/schema/overlay'
import type { Table } from '../src/schema/snapshot-schema'

const customer = (): Table => ({
  schema: 'public',
  name: 'customer',
  kind: 'table',
  comment: '客户',
  row_estimate: 4,
  columns: [
    { name: 'country', type: 'text', nullable: false, samples: ['Brazil', 'Canada'] },
    { name: 'email', type: 'text', nullable: false, comment: '电子邮箱', samples: ['luisg@embraer.com.br'] },
    { name: 'phone', type: 'text', nullable: true, samples: ['+55 (12) 3923-5555'] },
  ],
})
const invoice = (): Table => ({ schema: 'sales', name: 'invoice', kind: 'table', comment: null, row_estimate: 4, columns: [{ name: 'billing_country', type: 'text', nullable: false, samples: ['Brazil'] }] })

describe('the overlay: curated comments and which columns keep their values', () => {
  it('accepts a column as a comment string (as before) or as { comment, samples }, and a table-wide samples flag', () => {
    expect(OverlaySchema.safeParse({ tables: { customer: { columns: { email: { samples: false }, phone: '电话', country: { comment: '国家', samples: true } } }, 'sales.invoice': { samples: false } } }).success).toBe(true)
    expect(OverlaySchema.safeParse({ tables: { customer: { columns: { email: { samples: 'no' } } } } }).success).toBe(false)
    expect(OverlaySchema.safeParse({ tables: { customer: { columns: { email: { sample: false } } } } }).success).toBe(false)
  })

  it('drops the samples of a column that says samples: false, keeps its comment, and leaves the other columns as they were', () => {
    const overlay = OverlaySchema.parse({ tables: { customer: { columns: { email: { samples: false }, phone: { comment: '联系电话', samples: false } } } } })
    const [table] = applyOverlay([customer()], overlay).tables
    expect(table!.columns).toEqual([
      { name: 'country', type: 'text', nullable: false, samples: ['Brazil', 'Canada'] },
      { name: 'email', type: 'text', nullable: false, comment: '电子邮箱' },
      { name: 'phone', type: 'text', nullable: true, comment: '联系电话' },
    ])
    expect([...columnsWithoutSamples([customer()], overlay)].sort()).toEqual([privateColumnKey('public', 'customer', 'email'), privateColumnKey('public', 'customer', 'phone')].sort())
  })

  it('a table that says samples: false drops them all, except a column that says samples: true back', () => {
    const overlay = OverlaySchema.parse({ tables: { customer: { samples: false, columns: { country: { samples: true } } }, 'sales.invoice': { samples: false } } })
    const tables = applyOverlay([customer(), invoice()], overlay).tables
    expect(tables[0]!.columns.map((c) => c.samples)).toEqual([['Brazil', 'Canada'], undefined, undefined])
    expect(tables[1]!.columns[0]!.samples).toBeUndefined()
    expect([...columnsWithoutSamples([customer(), invoice()], overlay)].sort()).toEqual([privateColumnKey('public', 'customer', 'email'), privateColumnKey('public', 'customer', 'phone'), privateColumnKey('sales', 'invoice', 'billing_country')].sort())
  })

  it('a comment-only overlay changes no samples, and none means no column is held back', () => {
    const overlay = OverlaySchema.parse({ tables: { customer: { columns: { email: '邮箱' } } } })
    expect(applyOverlay([customer()], overlay).tables[0]!.columns[1]).toEqual({ name: 'email', type: 'text', nullable: false, comment: '邮箱', samples: ['luisg@embraer.com.br'] })
    expect(columnsWithoutSamples([customer()], overlay).size).toBe(0)
    expect(columnsWithoutSamples([customer()], null).size).toBe(0)
  })
})
