/**
 * The URL of a handler module under `workers/handlers/`. The relative path is the same from
 * `src/services/*.ts` (run by tsx) and from the build (`dist/src/services/*.js` ->
 * `dist/workers/handlers/*.js`); the extension follows this file's own.
 */
export function handlerModule(name: string): URL {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`../../workers/handlers/${name}.${ext}`, import.meta.url);
}
