// A small SVG bar chart for the benchmark report: horizontal bars, one row per measurement, grouped
// under headings, values printed at the bar ends. Plain SVG text, no script, readable on GitHub.

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
const PALETTE = ['#2f6fde', '#e0892b', '#3a9b5c', '#9b59b6', '#c0392b', '#7f8c8d']

/**
 * @param {{ title: string, unit: string, note?: string, log?: boolean,
 *   groups: { name: string, bars: { label: string, value: number | null, series?: number, text?: string }[] }[] }} chart
 * @returns {string} an SVG document
 */
export function barChart({ title, unit, note, groups, log = false }) {
  const labelWidth = 300
  const barWidth = 420
  const rowHeight = 20
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v !== null && v > 0)
  const max = Math.max(...values, 1e-9)
  const min = Math.min(...values, max)
  const scale = (v) => {
    if (!(v > 0)) return 0
    if (!log) return (v / max) * barWidth
    const lo = Math.log10(min) - 0.3
    return ((Math.log10(v) - lo) / (Math.log10(max) - lo)) * barWidth
  }
  const format = (v) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toPrecision(2))
  let y = 44
  const parts = []
  for (const group of groups) {
    parts.push(`<text x="8" y="${y + 13}" font-weight="bold">${escape(group.name)}</text>`)
    y += rowHeight
    for (const bar of group.bars) {
      const width = bar.value === null ? 0 : Math.max(1, scale(bar.value))
      const color = PALETTE[(bar.series ?? 0) % PALETTE.length]
      parts.push(`<text x="${labelWidth - 8}" y="${y + 13}" text-anchor="end">${escape(bar.label)}</text>`)
      if (bar.value === null) {
        parts.push(`<text x="${labelWidth + 4}" y="${y + 13}" fill="#888">${escape(bar.text ?? 'not measured')}</text>`)
      } else {
        parts.push(`<rect x="${labelWidth}" y="${y + 3}" width="${width.toFixed(1)}" height="${rowHeight - 6}" fill="${color}"/>`)
        parts.push(`<text x="${(labelWidth + width + 4).toFixed(1)}" y="${y + 13}">${escape(bar.text ?? `${format(bar.value)} ${unit}`)}</text>`)
      }
      y += rowHeight
    }
    y += 6
  }
  if (note) {
    parts.push(`<text x="8" y="${y + 12}" fill="#555" font-size="11">${escape(note)}</text>`)
    y += 20
  }
  const width = labelWidth + barWidth + 140
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 8}" viewBox="0 0 ${width} ${y + 8}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="${width - 8}" y="22" text-anchor="end" fill="#555">${escape(unit)}${log ? ', log scale' : ''}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}

/**
 * A small SVG line chart: one polyline per series over shared axes, each point labelled (e.g. the
 * number of probed lists). Plain SVG text, no script.
 *
 * @param {{ title: string, x: { label: string, log?: boolean }, y: { label: string, min?: number, max?: number }, note?: string,
 *   series: { name: string, points: { x: number, y: number, label?: string }[] }[] }} chart
 * @returns {string} an SVG document
 */
export function lineChart({ title, x, y, note, series }) {
  const W = 720
  const H = 420
  const left = 70
  const right = 190
  const top = 44
  const bottom = 56
  const pts = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
  const fx = (v) => (x.log ? Math.log10(v) : v)
  const x0 = Math.min(...pts.map((p) => fx(p.x)))
  const x1 = Math.max(...pts.map((p) => fx(p.x)), x0 + 1e-9)
  const y0 = y.min ?? Math.min(...pts.map((p) => p.y))
  const y1 = y.max ?? Math.max(...pts.map((p) => p.y))
  const sx = (v) => left + ((fx(v) - x0) / (x1 - x0)) * (W - left - right)
  const sy = (v) => top + (1 - (v - y0) / (y1 - y0 || 1)) * (H - top - bottom)
  const parts = [`<text x="8" y="22" font-weight="bold" font-size="15">${escape(title)}</text>`]
  parts.push(`<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#444"/><line x1="${left}" y1="${top}" x2="${left}" y2="${H - bottom}" stroke="#444"/>`)
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4
    parts.push(`<text x="${left - 6}" y="${sy(v) + 4}" text-anchor="end" font-size="11">${v.toFixed(2)}</text><line x1="${left}" y1="${sy(v)}" x2="${W - right}" y2="${sy(v)}" stroke="#eee"/>`)
  }
  const ticks = x.log ? [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000].filter((t) => fx(t) >= x0 - 1e-9 && fx(t) <= x1 + 1e-9) : Array.from({ length: 5 }, (_, i) => x0 + ((x1 - x0) * i) / 4)
  for (const t of ticks) parts.push(`<text x="${sx(t)}" y="${H - bottom + 16}" text-anchor="middle" font-size="11">${t >= 10 ? Math.round(t) : t}</text>`)
  parts.push(`<text x="${(left + W - right) / 2}" y="${H - bottom + 36}" text-anchor="middle">${escape(x.label)}</text>`)
  parts.push(`<text x="16" y="${(top + H - bottom) / 2}" transform="rotate(-90 16 ${(top + H - bottom) / 2})" text-anchor="middle">${escape(y.label)}</text>`)
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]
    const ok = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${ok.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`)
    for (const p of ok) {
      parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${color}"/>`)
      if (p.label) parts.push(`<text x="${(sx(p.x) + 4).toFixed(1)}" y="${(sy(p.y) - 5).toFixed(1)}" font-size="10" fill="${color}">${escape(p.label)}</text>`)
    }
    parts.push(`<rect x="${W - right + 12}" y="${top + i * 20}" width="12" height="12" fill="${color}"/><text x="${W - right + 30}" y="${top + i * 20 + 11}" font-size="12">${escape(s.name)}</text>`)
  })
  if (note) parts.push(`<text x="8" y="${H - 8}" font-size="11" fill="#555">${escape(note)}</text>`)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`
}
