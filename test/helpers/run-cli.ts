import { join } from 'node:path';
import { ROOT } from './paths.js';
import { runNode, type NodeRun } from './run-node.js';

/**
 * Runs the callpool CLI in a child process (from source under tsx unless `entry` says
 * otherwise) with no OpenAI key in its environment, and collects its output and exit code.
 */
export function runCli(args: string[], options: { entry?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<NodeRun> {
  const entry = options.entry ?? ['--import', 'tsx', join(ROOT, 'src/cli.ts')];
  return runNode([...entry, ...args], { ...(options.env ?? process.env), OPENAI_API_KEY: '' });
}
