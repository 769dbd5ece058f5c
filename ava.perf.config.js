// `npm test`'s second step: the measurements of test/perf, from the TypeScript source, one file
// at a time after the rest of the suite. Beside another test file's processes on two cores, a
// thread hop waits for a core and a latency compared with a direct call measures the neighbour.
export default {
  files: ['test/perf/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx', '--expose-gc'],
  environmentVariables: { CALLPOOL_OBSERVER_REALTIME: '0' },
  workerThreads: false,
  timeout: '2m',
  concurrency: 1,
};
