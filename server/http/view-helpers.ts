/** "2026-11-22" in UTC; empty for no date. */
export function formatDate(d: Date | string | null | undefined): string {
  if (!d) return '';
  return new Date(d).toISOString().slice(0, 10);
}

/** "2026-11-22 08:05 UTC"; empty for no date. */
export function formatDateTime(d: Date | string | null | undefined): string {
  if (!d) return '';
  const iso = new Date(d).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
