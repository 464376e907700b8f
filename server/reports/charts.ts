/** One bar of a chart, with the list it stands for. */
export interface Bar {
  label: string;
  value: number;
  href: string;
  /** A CSS class giving the bar its colour (public/style.css, `.bar-*`). */
  tone: string;
}

/** A horizontal bar chart as the server draws it in SVG: every coordinate computed here. */
export interface BarChart {
  id: string;
  title: string;
  desc: string;
  width: number;
  height: number;
  labelWidth: number;
  /** Shown after each value ("%" for shares). */
  unit: string;
  bars: (Bar & { y: number; barWidth: number; textX: number })[];
}

const ROW = 26;
const BAR = 18;
const WIDTH = 420;
const LABEL = 150;
const VALUE_ROOM = 50;

/**
 * Lays out a horizontal bar chart. The description repeats every number in words, so a screen
 * reader gets the chart whole; the page also shows the numbers as a table.
 */
export function barChart(id: string, title: string, bars: Bar[], unit = ''): BarChart {
  const max = unit === '%' ? 100 : Math.max(1, ...bars.map((b) => b.value));
  const span = WIDTH - LABEL - VALUE_ROOM;
  return {
    id,
    title,
    desc: bars.map((b) => `${b.label}: ${b.value}${unit}`).join('; ') + '.',
    unit,
    width: WIDTH,
    height: bars.length * ROW + 4,
    labelWidth: LABEL,
    bars: bars.map((b, i) => {
      const barWidth = b.value === 0 ? 0 : Math.max(2, Math.round((span * b.value) / max));
      return { ...b, y: i * ROW + 2, barWidth, textX: LABEL + barWidth + 6 };
    }),
  };
}

export const BAR_HEIGHT = BAR;
