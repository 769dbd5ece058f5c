/**
 * The mock upstream in a process of its own (`child_process.fork` this file with CHILD_EXEC_ARGV):
 * its CPU is then neither the measured process's nor its threads'. Options come as JSON in argv[2];
 * it answers 'cpu' with its own process.cpuUsage() and 'close' by closing and exiting.
 */
import { startMockUpstream } from '../../src/harness/mock-upstream.js';

const up = await startMockUpstream(JSON.parse(process.argv[2] ?? '{}'));
process.on('message', async (m: string) => {
  if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
  else if (m === 'close') {
    await up.close();
    process.send!({ closed: true }, () => process.exit(0));
  }
});
process.send!({ baseURL: up.baseURL });
