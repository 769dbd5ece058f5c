// The built worker file given to piscina (built: workers/piscina-entry.cjs). piscina loads its
// worker file with require() first; on Node >= 20.19 that would load the ESM entry through
// require(esm), where a Node 20 assertion (ModuleWrap::CreateRequiredModuleFacade) once aborted
// the whole process. As CommonJS that import()s the entry, the worker stays on the ESM loader;
// piscina awaits the `default` it finds, so the session function is this promise's value.
module.exports = import('./entry.js').then((m) => m.default);
