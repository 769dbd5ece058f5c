/**
 * zod twins of callpool's TypeBox schemas, for the side-by-side comparison only (zod plays the
 * part Pydantic played in the Python original). Each mirrors its twin rule for rule.
 */
import { z } from 'zod';

export const CallContextDataZ = z.object({
  callId: z.string().min(1),
  branchId: z.string(),
  deadlineEpochMs: z.number().nullable(),
  capabilities: z.array(z.string()),
  attrs: z.record(z.string(), z.unknown()),
}).strict();

export const ServiceCallDataZ = z.object({
  id: z.string(),
  service: z.string(),
  branchId: z.string(),
  status: z.enum(['PENDING', 'QUEUED', 'EXECUTING', 'COMPLETED', 'FAILED', 'CANCELLED']),
  createdAt: z.number(),
  queuedAt: z.number().nullable(),
  startedAt: z.number().nullable(),
  endedAt: z.number().nullable(),
  tokens: z.number().min(0),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

const RateWindowZ = z.object({ limit: z.number().int().min(1), windowMs: z.number().gt(0) }).strict();
const windows = z.union([RateWindowZ, z.array(RateWindowZ).min(1)]);

export const ExecutorConfigZ = z.object({
  queueCapacity: z.number().int().min(1).optional(),
  concurrency: z.number().int().min(1).optional(),
  limits: z.object({
    requests: windows.optional(),
    tokens: windows.optional(),
    store: z.union([
      z.object({ kind: z.literal('memory') }).strict(),
      z.object({ kind: z.literal('redis'), url: z.string().min(1), prefix: z.string().optional(), key: z.string().min(1).optional(), onUnavailable: z.enum(['fail-closed', 'fail-open']).optional(), commandTimeoutMs: z.number().gt(0).optional() }).strict(),
    ]).optional(),
  }).strict().optional(),
  pool: z.object({
    kind: z.enum(['piscina', 'tinypool', 'inline']),
    threads: z.number().int().min(1).max(256).optional(),
    streamCredit: z.number().int().min(1).max(65536).optional(),
    abortGraceMs: z.number().min(0).optional(),
    execArgv: z.array(z.string()).optional(),
    maxHeapMb: z.number().int().min(16).optional(),
  }).strict().optional(),
  middleware: z.array(z.unknown()).optional(),
  historySize: z.number().int().min(0).optional(),
  validateRequests: z.boolean().optional(),
}).strict();

const Usage = z.object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0).optional(), total_tokens: z.number().int().min(0) });

/** Like the TypeBox ChatCompletionSchema: required fields checked, others allowed through. */
export const ChatCompletionZ = z.looseObject({
  id: z.string(),
  object: z.string().optional(),
  model: z.string().optional(),
  choices: z.array(
    z.looseObject({
      index: z.number().int().min(0),
      message: z.looseObject({ role: z.string(), content: z.string().nullable() }),
      finish_reason: z.string().nullable(),
    }),
  ),
  usage: Usage.optional(),
});

export const sampleCallContext = { callId: '3b241101-e2bb-4255-8caf-4136c566a962', branchId: 'branch-7', deadlineEpochMs: 1_764_000_005_000, capabilities: ['net.out:api.openai.com', 'fs.read:/tmp'], attrs: { user: 'u-1', trace: 'abc' } };
export const sampleServiceCall = { id: '3b241101-e2bb-4255-8caf-4136c566a962', service: 'openai.chat', branchId: 'branch-7', status: 'COMPLETED', createdAt: 1000.5, queuedAt: 1000.6, startedAt: 1002.1, endedAt: 1350.7, tokens: 812, error: null };
export const sampleExecutorConfig = { queueCapacity: 1000, concurrency: 20, limits: { requests: [{ limit: 100, windowMs: 1000 }, { limit: 5000, windowMs: 60_000 }], tokens: { limit: 50_000, windowMs: 60_000 } }, pool: { kind: 'piscina', threads: 2, streamCredit: 64 }, historySize: 100 };
