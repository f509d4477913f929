/**
 * @module
 * Small statistics and formatting helpers shared by the benchmark parts.
 */

/** The q-quantile (0..1) of `values` by the nearest-rank method; `values` need not be sorted. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]
}

/** The median of `values`. */
export function median(values) {
  return quantile(values, 0.5)
}

/** The arithmetic mean of `values`. */
export function mean(values) {
  return values.reduce((a, b) => a + b, 0) / values.length
}

/** `{ n, median, p99, min, max, mean }` of a list of durations in ms. */
export function summarize(values) {
  return {
    n: values.length,
    median: quantile(values, 0.5),
    p99: quantile(values, 0.99),
    min: Math.min(...values),
    max: Math.max(...values),
    mean: mean(values),
  }
}

/** Rounds to `digits` decimals for printing and JSON. */
export function round(value, digits = 3) {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

/** Formats a number with thousands separators and no decimals. */
export function whole(value) {
  return Math.round(value).toLocaleString('en-US')
}

/** Pads cells into a fixed-width text table (first column left-aligned, the rest right-aligned). */
export function table(rows) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => String(row[col]).length)))
  return rows
    .map((row) =>
      row
        .map((cell, col) => (col === 0 ? String(cell).padEnd(widths[col]) : String(cell).padStart(widths[col])))
        .join('  '),
    )
    .join('\n')
}

/** Milliseconds elapsed since `start` (a `process.hrtime.bigint()` value). */
export function since(start) {
  return Number(process.hrtime.bigint() - start) / 1e6
}
