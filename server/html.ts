/**
 * Markup built in code rather than in a view, for the few places where a view's loop was most of a
 * page's cost. Everything interpolated goes through escapeHtml, which escapes exactly as EJS's
 * `<%= %>` does, so the markup is the same as the view would have produced.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/** Text or a number made safe inside an element or a double-quoted attribute, as EJS's `<%= %>` does. */
export function escapeHtml(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
