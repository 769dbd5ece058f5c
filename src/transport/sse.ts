import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { TransportError } from '../core/errors.js';

export type SseEvent = EventSourceMessage;

/** The data value OpenAI-compatible servers send to end a stream. */
export const SSE_DONE = '[DONE]';

/**
 * Decodes a byte stream of Server-Sent Events. Events split across network chunks, multi-line
 * `data:` fields, comments (`: keep-alive`), `\r\n` line ends and multi-byte characters split
 * between chunks are all handled; an event is yielded once its terminating blank line arrives,
 * so a partial event at end of stream is dropped (as the SSE spec says).
 * `maxEventBytes` bounds the memory a server that never ends an event can take.
 */
export async function* decodeSse(body: AsyncIterable<Uint8Array | string>, maxEventBytes: number = 16 * 1024 * 1024): AsyncGenerator<SseEvent> {
  const ready: SseEvent[] = [];
  let failure: TransportError | undefined;
  const parser = createParser({
    onEvent: (e) => ready.push(e),
    onError: (e) => {
      if (e.type === 'max-buffer-size-exceeded') failure = new TransportError(`stream event larger than ${maxEventBytes} bytes`, undefined, { retryable: false });
    },
    maxBufferSize: maxEventBytes,
  });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (failure) throw failure;
    if (ready.length > 0) {
      // Yield from a snapshot so events parsed while the consumer runs are not lost.
      const batch = ready.splice(0, ready.length);
      for (const e of batch) yield e;
    }
  }
  const tail = decoder.decode();
  if (tail !== '') parser.feed(tail);
  for (const e of ready.splice(0, ready.length)) yield e;
}
