export { Executor } from './executor/executor.js';
export type { SubmitOptions, CloseOptions } from './core/call-options.js';
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
  HandlerLoadError,
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
export { derive, type Middleware, type Invocation, type CallNext, type StreamNext } from './middleware/types.js';
export { isPool, type Pool, type PoolKind, type PoolTask } from './pool/types.js';
export type { Limiter, Acquisition, Ticket } from './limits/types.js';
export { MemoryLimiter } from './limits/memory-limiter.js';
export { SlidingWindow } from './limits/sliding-window.js';
export { RedisLimiter, type RedisLimiterOptions, type RedisTicket } from './limits/redis-limiter.js';
export { model, Model, defaultMiddleware, type ModelOptions, type CallOptions, type ModelData } from './models/model.js';
export { register, providers, resolveModel } from './models/registry.js';
export { openaiCompatible } from './models/builtin-adapters.js';
export type { ProviderAdapter, AdapterConfig, AnyService } from './models/adapter.js';
export { telemetry, type TelemetryOptions, type TelemetryMiddleware, type TracerProviderLike, type MeterProviderLike } from './telemetry/telemetry.js';
export { usageOf, type TokenUsage } from './telemetry/usage.js';
export { openai } from './services/openai.js';
export { anthropic } from './services/anthropic.js';
export type { AnthropicOptions } from './services/anthropic-options.js';
export type { MessagesRequest, Message, MessageEvent, AnthropicUsage } from './services/anthropic-schemas.js';
export { anthropicLimitsFromHeaders } from './transport/anthropic-rate-limit-headers.js';
export type { OpenAIOptions } from './services/openai-options.js';
export { jsonService, type JsonServiceOptions, type JsonRequest } from './services/json-service.js';
export type { HttpService } from './services/http-service.js';
export type { ChatRequest, ChatCompletion, ChatChunk, CompletionRequest, Completion, CompletionChunk, EmbeddingsRequest, Embeddings } from './services/openai-schemas.js';
export { startMockUpstream, type MockUpstream, type MockUpstreamOptions, type MockUpstreamStats, type RouteOptions } from './harness/mock-upstream.js';
export { ArrivalLog } from './harness/arrival-log.js';
export type { HttpTransport, HttpRequest, SendOptions, JsonResponse, SseResponse, TransportKind, TransportOptions } from './transport/http-transport.js';
export { createTransport } from './transport/create-transport.js';
export { parseRetryAfter } from './transport/retry-after.js';
export { providerLimitsFromHeaders } from './transport/rate-limit-headers.js';
export { policyGate, REQUIRES_ATTR, type PolicyGateOptions } from './middleware/policy-gate.js';
export { covers, GrantSet } from './middleware/capabilities.js';
export { redaction, type RedactionMiddleware } from './middleware/redaction.js';
export { redact, createRedactor, REDACTED, type Redactor, type RedactorOptions } from './core/redact.js';
export { metrics, type MetricsMiddleware, type MetricsOptions, type MetricsSnapshot, type ServiceMetrics } from './middleware/metrics.js';
export { hooks, type HooksOptions } from './middleware/hooks.js';
export { HookRegistry, HookType, type HookEvent, type HookFn, type HookOptions, type HookOutcome, type HookRegistryOptions } from './middleware/hook-registry.js';
export { circuitBreaker, type CircuitBreakerMiddleware, type CircuitBreakerOptions, type CircuitState, type StateChange } from './middleware/circuit-breaker.js';
export { ConsecutiveFailures, FailureRatio, type TripPolicy, type FailureRatioOptions } from './middleware/breaker-policy.js';
export { retry, type RetryOptions, type RetryInfo } from './middleware/retry.js';
export { timeout } from './middleware/timeout.js';
export type { Sleep } from './middleware/sleep.js';
export { workerPool, PiscinaPool, TinypoolPool } from './pool/worker-pool.js';
export { ChannelPool } from './pool/channel-pool.js';
export { InlinePool } from './pool/inline-pool.js';
export { AbortHandle } from './core/abort-handle.js';
export type { DispatchStats } from './executor/dispatch-jitter.js';
export { createPool } from './pool/create-pool.js';
