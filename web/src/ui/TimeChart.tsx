// A time-series line chart (uPlot): x in the viewer's zone, one line per series, sized to its container.
import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export interface Line {
  label: string
  color: string
  values: (number | null)[]
}

/** `span`: the window's [from, to] in seconds, so a series of one point still shows its place in time. */
export function TimeChart({
  title,
  times,
  lines,
  unit,
  max,
  span,
}: {
  title: string
  times: number[]
  lines: Line[]
  unit: string
  max?: number
  span: [number, number]
}) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (!el) return
    const width = () => Math.max(280, el.clientWidth)
    const plot = new uPlot(
      {
        width: width(),
        height: 220,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true, range: () => span }, y: { range: (_u, lo, hi) => [0, max ?? Math.max(hi * 1.1, lo + 1)] } },
        axes: [
          { stroke: '#5f6b7a', grid: { stroke: '#eef0f3' } },
          { stroke: '#5f6b7a', grid: { stroke: '#eef0f3' }, values: (_u, ticks) => ticks.map((t) => `${t}${unit}`), size: 60 },
        ],
        series: [
          {},
          ...lines.map((l) => ({
            label: l.label,
            stroke: l.color,
            width: 2,
            spanGaps: false,
            points: { size: 5 },
            value: (_u: uPlot, v: number | null) => (v == null ? '—' : `${Math.round(v * 10) / 10}${unit}`),
          })),
        ],
      },
      [times, ...lines.map((l) => l.values)] as uPlot.AlignedData,
      el,
    )
    const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: 220 }))
    observer.observe(el)
    return () => {
      observer.disconnect()
      plot.destroy()
    }
  }, [times, lines, unit, max, span])
  return (
    <figure className="chart-wrap">
      <figcaption>{title}</figcaption>
      <div ref={box} className="chart" role="img" aria-label={`${title} over time`} />
    </figure>
  )
}
