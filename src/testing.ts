/**
 * `callpool/testing`: what a test of code built on callpool needs, apart from the library itself:
 * the mock OpenAI-compatible upstream (latency, faults, 429s, streams) and the arrival log it
 * judges rate limits with. The root entry point still exports both.
 */
export { startMockUpstream, type MockUpstream, type MockUpstreamOptions, type MockUpstreamStats, type RouteOptions } from './harness/mock-upstream.js';
export { ArrivalLog } from './harness/arrival-log.js';
