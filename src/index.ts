export { Executor, type SubmitOptions, type CloseOptions } from './executor/executor.js';
export { CallStream } from './executor/call-stream.js';
export type { ExecutorStats } from './executor/executor-stats.js';
export type { LatencySummary } from './executor/latency-histogram.js';
export { CallContext } from './core/call-context.js';
export { ServiceCall, CallStatus, IllegalTransitionError } from './core/service-call.js';
export { defineService, type Service, type ServiceDefinition, type Handler, type HandlerContext } from './core/service.js';
export type { ExecutorConfig } from './core/config.js';
export type { ExecutorEventMap, ExecutorEventName } from './core/events.js';
export { withMeta, metaOnly, type ResultMeta, type ProviderLimits } from './core/envelope.js';
export {
  CallpoolError,
  QueueFullError,
  DeadlineExceededError,
  CancelledError,
  PolicyError,
  ValidationError,
  ConfigError,
  CircuitOpenError,
  RateLimitError,
  WorkerCrashError,
  TransportError,
  ClosedError,
  LimiterUnavailableError,
  HookError,
  ErrorCodes,
  type ErrorCode,
  type Issue,
  isCallpoolError,
  isQueueFullError,
  isDeadlineExceededError,
  isCancelledError,
  isRateLimitError,
  isRetryable,
  hasCode,
} from './core/errors.js';
export type { CallContextData, ServiceCallData, RateWindow, LimitsConfig, PoolConfig } from './core/schemas.js';
export { compose, type Chain } from './middleware/compose.js';
export type { Middleware, Invocation, CallNext, StreamNext } from './middleware/types.js';
export type { Pool, PoolKind, PoolTask } from './pool/types.js';
export type { Limiter, Acquisition, Ticket } from './limits/types.js';
export { MemoryLimiter } from './limits/memory-limiter.js';
export { SlidingWindow } from './limits/sliding-window.js';
export { RedisLimiter, type RedisLimiterOptions, type RedisTicket } from './limits/redis-limiter.js';
