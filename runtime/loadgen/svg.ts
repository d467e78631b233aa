/** A small dependency-free SVG line chart: stacked panels sharing an x axis. */

export interface Series {
  label: string;
  color: string;
  values: readonly number[];
}

export interface Panel {
  title: string;
  unit: string;
  series: readonly Series[];
}

const WIDTH = 760;
const PANEL_HEIGHT = 220;
const MARGIN = { left: 70, right: 20, top: 34, bottom: 40 };

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const tick = (value: number): string =>
  value >= 1000
    ? `${Math.round(value).toLocaleString('en-US')}`
    : value >= 10
      ? value.toFixed(0)
      : value.toPrecision(2);

/** A nice upper bound for an axis (1, 2 or 5 times a power of ten). */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (value <= m * power) return m * power;
  return 10 * power;
}

export function lineChart(title: string, xLabel: string, x: readonly number[], panels: readonly Panel[]): string {
  const height = panels.length * PANEL_HEIGHT + 30;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const xMin = Math.min(...x);
  const xMax = Math.max(...x);
  const sx = (v: number): number =>
    MARGIN.left + (xMax === xMin ? plotWidth / 2 : ((v - xMin) / (xMax - xMin)) * plotWidth);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  ];
  panels.forEach((panel, index) => {
    const top = 30 + index * PANEL_HEIGHT;
    const yMax = niceMax(Math.max(0, ...panel.series.flatMap((s) => s.values.filter(Number.isFinite))));
    const sy = (v: number): number => top + MARGIN.top + plotHeight - (v / yMax) * plotHeight;
    parts.push(
      `<text x="${MARGIN.left}" y="${top + 20}" font-size="12">${escapeXml(`${panel.title} (${panel.unit})`)}</text>`,
    );
    for (let i = 0; i <= 4; i++) {
      const v = (yMax * i) / 4;
      parts.push(
        `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${sy(v)}" y2="${sy(v)}" stroke="#ddd"/>`,
        `<text x="${MARGIN.left - 6}" y="${sy(v) + 4}" text-anchor="end">${tick(v)}</text>`,
      );
    }
    for (let i = 0; i <= 4; i++) {
      const v = xMin + ((xMax - xMin) * i) / 4;
      parts.push(`<text x="${sx(v)}" y="${top + MARGIN.top + plotHeight + 16}" text-anchor="middle">${tick(v)}</text>`);
    }
    parts.push(
      `<text x="${MARGIN.left + plotWidth / 2}" y="${top + PANEL_HEIGHT - 6}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    );
    panel.series.forEach((series, s) => {
      const points = series.values
        .map((v, i) => (Number.isFinite(v) ? `${sx(x[i]!).toFixed(1)},${sy(v).toFixed(1)}` : null))
        .filter((p) => p !== null)
        .join(' ');
      parts.push(
        `<polyline fill="none" stroke="${series.color}" stroke-width="2" points="${points}"/>`,
        `<text x="${WIDTH - MARGIN.right - 4}" y="${top + 20 + 14 * s}" text-anchor="end" fill="${series.color}">${escapeXml(series.label)}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
