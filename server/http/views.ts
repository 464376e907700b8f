import fs from 'node:fs';
import ejs from 'ejs';

/**
 * The page templates' engine: EJS, with each template compiled once into a function that reads its
 * locals as plain variables. EJS by default runs a template's code inside `with (locals)`, where
 * every name is looked up at run time and V8 cannot optimize the code; without it the vendor's
 * welcome page renders in 60% of the time. The variables are the names the template's code uses, less the names it declares
 * itself and JavaScript's standard globals (see localNames).
 *
 * Templates include each other by their path from the views folder (`include('/partials/head')`),
 * which EJS resolves against `root` without asking the file system. Mail templates are rendered
 * apart (mail/render.ts).
 */
export function viewEngine(viewsDir: string): (file: string, locals: object, done: (err: Error | null, html?: string) => void) => void {
  const options = {
    root: viewsDir,
    views: [viewsDir],
    // Includes are found in EJS's cache, where templateFor() puts each template compiled with its own names.
    cache: true,
    _with: false,
    includer: (_original, file) => {
      templateFor(file);
      return { filename: file };
    },
  } satisfies ejs.Options;
  const templateFor = (file: string): ejs.TemplateFunction => {
    const cached = ejs.cache.get(file) as ejs.TemplateFunction | undefined;
    if (cached) return cached;
    const source = fs.readFileSync(file, 'utf8');
    const fn = ejs.compile(source, { ...options, filename: file, destructuredLocals: localNames(source), async: false });
    ejs.cache.set(file, fn);
    return fn;
  };
  return (file, locals, done) => {
    let html: string;
    try {
      html = templateFor(file)(locals);
    } catch (err) {
      return done(err as Error);
    }
    done(null, html);
  };
}

/** JavaScript's reserved words and literals: never a local's name. */
const RESERVED = new Set(
  'await break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof let new null return static super switch this throw true try typeof var void while with yield async of undefined NaN Infinity arguments eval'.split(' '),
);

/** Standard globals a template may use as such (a local of the same name would hide them). */
const STANDARD = new Set(
  'Array Boolean Date Error Intl JSON Map Math Number Object RegExp Set String Symbol BigInt Promise URL URLSearchParams encodeURIComponent decodeURIComponent encodeURI decodeURI isFinite isNaN parseFloat parseInt'.split(' '),
);

/** What EJS itself passes to or declares in every compiled template. */
const EJS_OWN = new Set(['include', 'locals', 'escapeFn', 'rethrow']);

/**
 * The names a template's code reads from its locals: every identifier in its `<% %>` tags that is
 * not a property (`.name`), not declared by the template (`const`, `let`, `var`, `function`, `class`,
 * with destructuring), not a reserved word, not one of EJS's own and not a standard global. Extra
 * names (a word in a string or comment) are harmless: they read as undefined.
 */
export function localNames(source: string): string[] {
  const code = [...source.matchAll(/<%(?![%#])[_=-]?([\s\S]*?)[-_]?%>/g)].map((m) => m[1]!).join('\n').replace(/\.\.\./g, ' ');
  const declared = new Set<string>();
  for (const m of code.matchAll(/\b(?:const|let|var|function|class)\s+([A-Za-z_$][\w$]*)/g)) declared.add(m[1]!);
  for (const m of code.matchAll(/\b(?:const|let|var)\s*[{[]([^}\]]*)[}\]]/g)) {
    for (const part of m[1]!.split(',')) {
      const name = /(?:^|:)\s*([A-Za-z_$][\w$]*)\s*(?:=.*)?$/.exec(part.trim())?.[1];
      if (name) declared.add(name);
    }
  }
  const names = new Set<string>();
  for (const m of code.matchAll(/(?<![\w$.])[A-Za-z_$][\w$]*/g)) {
    const name = m[0];
    if (!declared.has(name) && !RESERVED.has(name) && !STANDARD.has(name) && !EJS_OWN.has(name) && !name.startsWith('__')) names.add(name);
  }
  return [...names].sort();
}
