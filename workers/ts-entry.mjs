// Worker entry when callpool runs from its TypeScript source (development, tests). Node 20
// does not carry the parent's `--import tsx` ESM hooks into worker threads, so register tsx
// here, then serve through the real entry. Built packages use workers/entry.js directly.
const { register } = await import('tsx/esm/api');
register();
globalThis[Symbol.for('callpool.tsx')] = true;
const entry = await import('./entry.ts');
export default entry.default;
