/** The seeded PRNG the mock upstream uses (mulberry32), so a failing run can be replayed from its seed. */
export { seededRandom as prng } from '../../src/harness/mock-random.js';
