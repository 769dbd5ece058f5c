// `npm run test:fast`: the suite less what is slow by nature (`npm test` runs everything), on the
// tests compiled to plain JavaScript (test/build-js.mjs, .test-build/): no tsx in each ava
// process, worker thread and child process. test/fast-plan.mjs says what is left out and which
// files share a process (.test-build/test/fast/group-*.test.js); the files that mostly wait run
// alone, started among the groups.
import { ALONE, BUILD, aloneRank, testFiles } from './test/fast-plan.mjs';

// Alone files and groups alternate: the first four processes are two that mostly wait and two
// CPU-bound groups, so neither the cores nor the waits sit idle at the start.
const rank = (file) => {
  const i = aloneRank(file);
  if (i !== -1) return 2 * i;
  const group = /\/group-(\d+)\.test\.js$/.exec(file);
  return group === null ? 2 * ALONE.length : 2 * Number(group[1]) - 1;
};
const alone = testFiles().filter((f) => aloneRank(f) !== -1);

export default {
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b),
  files: [...alone, `${BUILD}/test/fast/group-*.test.js`],
  nodeArguments: ['--expose-gc'],
  // Test files run side by side on two cores: a real-time upstream thread in one (a soak's
  // observer) would hold back the timing checks of another. The tests that check the
  // real-time observer ask for it explicitly.
  environmentVariables: { CALLPOOL_OBSERVER_REALTIME: '0' },
  workerThreads: false,
  timeout: '2m',
  // Four processes at a time on two cores: the files that run alone mostly wait.
  concurrency: 4,
};
