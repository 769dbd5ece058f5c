/** Does nothing: the handler of a rejection that is reported elsewhere or changes nothing. */
export function noop(): void {}
