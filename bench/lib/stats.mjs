// Order statistics over repeated measurements: the median, p99 and spread (p10–p90) we report.

export function quantile(values, q) {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}

export function summary(values) {
  return {
    n: values.length,
    p50: quantile(values, 0.5),
    p99: quantile(values, 0.99),
    p10: quantile(values, 0.1),
    p90: quantile(values, 0.9),
    max: values.length ? Math.max(...values) : NaN,
  }
}

export const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')

export function spread(s, unit = 'ms', digits = 2) {
  return `p50 ${fmt(s.p50, digits)} / p99 ${fmt(s.p99, digits)} ${unit} (p10–p90 ${fmt(s.p10, digits)}–${fmt(s.p90, digits)}, n=${s.n})`
}
