import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './paths.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the callpool CLI in a child process (from source under tsx unless `entry` says
 * otherwise) with no OpenAI key in its environment, and collects its output and exit code.
 */
export function runCli(args: string[], options: { entry?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const entry = options.entry ?? ['--import', 'tsx', join(ROOT, 'src/cli.ts')];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, ...args], { cwd: ROOT, env: { ...(options.env ?? process.env), OPENAI_API_KEY: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
