// How values read on screen: rates as percentages, counts as integers, times locally.

const RATE = /(^|\.)[a-z_]*rate$/;

export function metricValue(name, value) {
  if (value === null || value === undefined) return "—";
  if (RATE.test(name)) return `${(value * 100).toFixed(1)} %`;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

export function json(value) {
  return JSON.stringify(value, null, 2);
}
