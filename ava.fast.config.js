// `npm run test:fast`: the suite less what is slow by nature (`npm test` runs everything), on the
// tests compiled to plain JavaScript (test/build-js.mjs, .test-build/): no tsx in each ava
// process, worker thread and child process. test/fast-plan.mjs says what is left out and which
// files share a process (.test-build/test/fast/group-*.test.js, waiting.test.js) and in what order
// they start (startRank).
import { BUILD, WAITING_FILE, aloneRank, startRank, testFiles } from './test/fast-plan.mjs';

const alone = testFiles().filter((f) => aloneRank(f) !== -1);

export default {
  sortTestFiles: (a, b) => startRank(a) - startRank(b) || a.localeCompare(b),
  files: [WAITING_FILE, ...alone, `${BUILD}/test/fast/group-*.test.js`],
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
