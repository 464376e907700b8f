import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { localNames, viewEngine } from '../server/http/views';
import { VIEWS_DIR } from '../server/paths';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-views-'));
after(() => fs.rmSync(DIR, { recursive: true, force: true }));

function write(name: string, source: string): string {
  const file = path.join(DIR, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, source);
  return file;
}

function render(file: string, locals: object): Promise<string> {
  const engine = viewEngine(DIR);
  return new Promise((resolve, reject) => engine(file, locals, (err, html) => (err ? reject(err) : resolve(html!))));
}

describe('page templates', () => {
  test('When a template is compiled, then its locals are the names its code reads, without properties, its own declarations, reserved words or standard globals', () => {
    const names = new Set(
      localNames(
        `<% const { a, b: renamed, c = 1 } = pair; let total = 0; %><%= title %> <%- include('/partials/x', { n: count }) %>
         <% for (const row of rows) { %><%= row.name %> <%= formatDate(row.at) %> <%= JSON.stringify(row) %><% } %>
         <% if (typeof maybe !== 'undefined') { %><%= new URLSearchParams(query).toString() %><% } %><%# hidden %><%% literal %>`,
      ),
    );
    for (const read of ['pair', 'title', 'count', 'rows', 'formatDate', 'maybe', 'query']) assert.ok(names.has(read), `${read} is read from the locals`);
    // Declared by the template, properties, reserved words, EJS's own, standard globals, comments and literal text.
    for (const not of ['a', 'renamed', 'c', 'total', 'row', 'name', 'at', 'const', 'let', 'for', 'of', 'typeof', 'new', 'include', 'JSON', 'URLSearchParams', 'toString', 'hidden', 'literal']) {
      assert.ok(!names.has(not), `${not} is not a local`);
    }
  });

  test('When a page is rendered, then it reads its locals, escapes what <%= writes, runs its includes with their own locals, and a missing optional local reads as undefined', async () => {
    write('partials/item.ejs', '<li><%= label %>: <%= value %></li>');
    const page = write(
      'page.ejs',
      `<h1><%= title %></h1><% const shown = items.filter((x) => x.value > 0); %><ul><% for (const item of shown) { %><%- include('/partials/item', item) %><% } %></ul><%= typeof note === 'undefined' ? 'no note' : note %> <%= Math.max(...items.map((x) => x.value)) %>`,
    );
    const html = await render(page, { title: '<script>x</script>', items: [{ label: 'a&b', value: 2 }, { label: 'c', value: 0 }] });
    assert.equal(html, '<h1>&lt;script&gt;x&lt;/script&gt;</h1><ul><li>a&amp;b: 2</li></ul>no note 2');
  });

  test('When a template fails while rendering, then the error names the template and line instead of a page being sent', async () => {
    const page = write('broken.ejs', 'line one\n<%= thing.missing.deeper %>');
    await assert.rejects(render(page, { thing: {} }), (err: Error) => /broken\.ejs:2/.test(err.message) && /deeper/.test(err.message));
  });

  test('When every page template of the portal is compiled, then each compiles with its own names', () => {
    const files = (fs.readdirSync(VIEWS_DIR, { recursive: true }) as string[]).filter((f) => f.endsWith('.ejs') && !f.startsWith(`mail${path.sep}`));
    assert.ok(files.length > 50, `${files.length} page templates`);
    const engine = viewEngine(VIEWS_DIR);
    for (const f of files) {
      // Compiling happens on the first render; locals that are missing only fail when the page runs, after compiling.
      engine(path.join(VIEWS_DIR, f), {}, (err) => assert.ok(!err || !(err instanceof SyntaxError), `${f}: ${err?.message}`));
    }
  });
});
