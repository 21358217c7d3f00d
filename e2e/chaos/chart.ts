/**
 * A small SVG line chart of several panels, one per measure, sharing the time axis: enough for a
 * person to see at a glance whether anything keeps growing. No dependencies.
 */
export interface Series {
  label: string;
  x: number[];
  y: number[];
}

export interface Panel {
  title: string;
  series: Series[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / magnitude) * magnitude;
}

export function renderChart(title: string, panels: Panel[], width = 1200, panelHeight = 200): string {
  const left = 80;
  const right = 180;
  const top = 40;
  const gap = 30;
  const height = top + panels.length * (panelHeight + gap);
  const plotWidth = width - left - right;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">${escape(title)}</text>`,
  ];
  const allX = panels.flatMap((p) => p.series.flatMap((s) => s.x));
  const xMax = Math.max(1, ...allX);
  panels.forEach((panel, index) => {
    const y0 = top + index * (panelHeight + gap);
    const values = panel.series.flatMap((s) => s.y.filter(Number.isFinite));
    const yMax = niceMax(Math.max(0, ...values));
    const px = (x: number) => left + (x / xMax) * plotWidth;
    const py = (y: number) => y0 + panelHeight - (y / yMax) * panelHeight;
    parts.push(`<rect x="${left}" y="${y0}" width="${plotWidth}" height="${panelHeight}" fill="none" stroke="#999"/>`);
    parts.push(`<text x="${left + 6}" y="${y0 + 16}" font-weight="bold">${escape(panel.title)}</text>`);
    for (const fraction of [0, 0.5, 1]) {
      parts.push(`<text x="${left - 6}" y="${py(yMax * fraction) + 4}" text-anchor="end">${+(yMax * fraction).toPrecision(3)}</text>`);
    }
    panel.series.forEach((series, i) => {
      const points = series.x.map((x, k) => [x, series.y[k]!] as const).filter(([, y]) => Number.isFinite(y));
      const color = COLORS[i % COLORS.length];
      if (points.length > 0) {
        parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
      }
      parts.push(`<text x="${left + plotWidth + 10}" y="${y0 + 20 + i * 16}" fill="${color}">${escape(series.label)}</text>`);
    });
  });
  const axisY = top + panels.length * (panelHeight + gap) - gap + 16;
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<text x="${left + fraction * plotWidth}" y="${axisY}" text-anchor="middle">${Math.round(xMax * fraction)} s</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
