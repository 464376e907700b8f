import path from 'node:path';

/** The project's top folder, found from the compiled file's place (dist/server/paths.js). */
export const ROOT_DIR = path.resolve(__dirname, '..', '..');
export const VIEWS_DIR = path.join(ROOT_DIR, 'views');
export const PUBLIC_DIR = path.join(ROOT_DIR, 'public');
export const QUESTIONNAIRES_DIR = path.join(ROOT_DIR, 'questionnaires');
/** Compiled migrations, loaded by TypeORM in timestamp order. */
export const MIGRATIONS_GLOB = path.join(ROOT_DIR, 'dist', 'migrations', '*.js');
