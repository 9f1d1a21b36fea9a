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
