import type { Express } from 'express';

/** One route the app answers: its method and its full path pattern (Express syntax, e.g. `/vendors/:id`). */
export interface RouteEntry {
  method: string;
  path: string;
}

interface ListedRoute {
  path: string | RegExp;
  methods: string[] | undefined;
  router: Lister | undefined;
}

interface Lister {
  listRoutes(): ListedRoute[];
}

function join(prefix: string, path: string): string {
  const joined = `${prefix.replace(/\/$/, '')}/${path.replace(/^\//, '')}`;
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

/**
 * Every route of the app, read from its router (mounted routers included), so that a test built on
 * it covers a route the moment it is added. HEAD, which Express adds to every GET, is left out.
 */
export function routeTable(app: Express): RouteEntry[] {
  // Express 5 keeps its root router on `app.router`; its type is not exported.
  const root = (app as unknown as { router: Lister }).router;
  const out: RouteEntry[] = [];
  const walk = (router: Lister, prefix: string) => {
    for (const route of router.listRoutes()) {
      if (route.path instanceof RegExp) throw new Error(`route table: a RegExp path under ${prefix} cannot be listed`);
      const path = join(prefix, route.path);
      if (route.router) walk(route.router, path);
      for (const method of route.methods ?? []) {
        if (method.toLowerCase() === 'head') continue;
        out.push({ method: method.toUpperCase(), path });
      }
    }
  };
  walk(root, '');
  return out;
}
