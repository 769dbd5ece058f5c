import { join } from 'node:path';
import { CHILD_EXEC_ARGV, EXT, TREE } from './paths.js';
import { runNode, type NodeRun } from './run-node.js';

/**
 * Runs the callpool CLI in a child process (from this tree, source or compiled, unless
 * `entry` says otherwise) with no OpenAI key in its environment, and collects its output and exit code.
 */
export function runCli(args: string[], options: { entry?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<NodeRun> {
  const entry = options.entry ?? [...CHILD_EXEC_ARGV, join(TREE, `src/cli${EXT}`)];
  return runNode([...entry, ...args], { ...(options.env ?? process.env), OPENAI_API_KEY: '' });
}
