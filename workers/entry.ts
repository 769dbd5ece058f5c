// The worker entry of the piscina and tinypool pools (built: workers/entry.js). The session
// itself lives in src/pool/worker/, beside the pool that talks to it.
export { serveSession as default } from '../src/pool/worker/session.js';
