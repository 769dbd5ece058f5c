import type { Service } from '../core/service.js';

/**
 * A service with known request, result and chunk types that still fits every executor method:
 * `tokensFromResult`/`tokensFromChunk` take their argument loosely, so a typed chat service is
 * accepted where `Service<Req, Res>` (calls) or `Service<Req, unknown, Chunk>` (streams) is asked
 * for, and `executor.call`/`executor.stream` still infer the result and chunk types.
 */
export type HttpService<Req, Res, Chunk = never> = Omit<Service<Req, Res, Chunk>, 'tokensFromResult' | 'tokensFromChunk'> & {
  readonly tokensFromResult: ((result: any) => number | undefined) | undefined;
  readonly tokensFromChunk: ((chunk: any) => number | undefined) | undefined;
};
