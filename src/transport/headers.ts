/** The one thing the transport needs from a set of response headers (fetch `Headers` fits). */
export interface HeaderReader {
  get(name: string): string | null;
}
