import test from 'ava';
import fc from 'fast-check';
import { GrantSet, covers, isGrant } from '../../src/middleware/capabilities.js';

const part = fc.stringMatching(/^[a-z0-9/_-]{1,6}$/);
const sep = fc.constantFrom('.', ':');
/** A well-formed capability: parts joined by `.` or `:`. */
const capability = fc
  .tuple(part, fc.array(fc.tuple(sep, part), { maxLength: 4 }))
  .map(([head, rest]) => head + rest.map(([s, p]) => s + p).join(''));
/** Any string at all, including spaces, stars and separators. */
const anything = fc.string({ unit: fc.constantFrom('a', 'b', '.', ':', '*', ' ', '-') , maxLength: 12 });

test('an exact grant covers that capability and no other', (t) => {
  fc.assert(
    fc.property(capability, capability, (g, r) => {
      t.true(covers(g, g));
      t.is(covers(g, r), g === r);
    }),
  );
  t.true(covers("x", "x"));
});

test('`a.*` covers only what lies strictly below `a.` (never `a`, never `ab`)', (t) => {
  fc.assert(
    fc.property(capability, sep, anything, (stem, s, r) => {
      const grant = `${stem}${s}*`;
      const expected = !r.includes('*') && !/\s/.test(r) && r.length > stem.length + 1 && r.startsWith(stem + s);
      return covers(grant, r) === expected && !covers(grant, stem) && !covers(grant, `${stem}x`);
    }),
  );
  t.false(covers('a.*', 'b'));
  t.false(covers('a.*', 'a'));
  t.false(covers('a.*', 'ab'));
  t.false(covers('a.*', 'a.'));
  t.true(covers('a.*', 'a.b.c'));
});

test('`net.out:*` never covers another family, e.g. `fs.read:x`', (t) => {
  fc.assert(
    fc.property(capability, (r) => {
      if (!r.startsWith('net.out:')) return !covers('net.out:*', r);
      return true;
    }),
  );
  fc.assert(fc.property(part, (x) => !covers('net.out:*', `fs.read:${x}`) && covers('net.out:*', `net.out:${x}`)));
  t.false(covers('net.out:*', 'net.outx:a'));
  t.false(covers('net.out:*', 'net.out'));
});

test('no prefix tricks: a grant never covers a longer capability that merely starts with it', (t) => {
  fc.assert(fc.property(capability, fc.stringMatching(/^[a-z0-9.:/_-]{1,10}$/), (g, suffix) => !covers(g, g + suffix)));
  t.false(covers('net.out:api.example.com', 'net.out:api.example.com.evil.io'));
  t.false(covers('net.out:api.example.com', 'net.out:api.example.co'));
});

test('wildcards only on the granted side: a required `*` is never covered; a mid-string `*` grants nothing', (t) => {
  fc.assert(
    fc.property(anything, anything, (g, r) => {
      if (r.includes('*')) return !covers(g, r) && !new GrantSet([g, '*']).has(r);
      if (g.includes('*') && !isGrant(g)) return !covers(g, r);
      return true;
    }),
  );
  t.false(covers('*', 'net.out:*'));
  t.false(covers('net.*.read', 'net.x.read'));
  t.false(covers('net*', 'network'));
  t.true(covers('*', 'anything:at.all'));
});

test('GrantSet agrees with `covers` over every grant, and lists what is missing', (t) => {
  fc.assert(
    fc.property(fc.array(fc.oneof(capability, capability.map((c) => `${c}.*`), anything), { maxLength: 6 }), fc.array(fc.oneof(capability, anything), { maxLength: 6 }), (grants, required) => {
      const set = new GrantSet(grants);
      for (const r of required) if (set.has(r) !== grants.some((g) => covers(g, r))) return false;
      const missing = set.missing(required);
      return missing.every((m) => !set.has(m)) && required.every((r) => set.has(r) || missing.includes(r));
    }),
  );
  t.deepEqual(new GrantSet(['net.out:*', 'fs.read:/tmp/a']).missing(['net.out:x', 'fs.read:/tmp/b', 'fs.read:/tmp/b']), ['fs.read:/tmp/b']);
});

test('only strings are grants or capabilities; a wildcard is a whole last part of an otherwise clean grant', (t) => {
  t.false(isGrant(42));
  t.false(isGrant('x y.*'), 'a blank anywhere');
  t.false(isGrant('*a.*'), 'a star before the last part');
  t.false(isGrant('a.*b'), 'a star not at the end');
  t.true(isGrant('a.*'));
  const set = new GrantSet(['net.out', 42, 'x y.*', 'a.*b', '*', 'fs.*']);
  t.deepEqual(set.granted, ['net.out', '*', 'fs.*'], 'the well-formed grants, in order');
  t.true(new GrantSet(['net.out', 42]).has('net.out'), 'a malformed grant is skipped, not fatal');
  t.false(new GrantSet(['net.out']).has(42 as never));
  t.false(new GrantSet(['a.*']).has('a.'), 'a stem alone is not below it');
  t.true(new GrantSet(['a.*']).has('a.b'));
  t.false(covers('*', 42 as never));
});
