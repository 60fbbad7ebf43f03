// SPDX-License-Identifier: Apache-2.0
// Drill: Redis drops every client connection (what a Redis restart, an idle timeout or an
// operator's CLIENT KILL does) while the services keep their pooled links. The next command
// on each link must go through on a new one: a logout right after the drop revokes its token
// at once, never 503 "the logout could not be recorded". Before rds.c replaced closed links,
// the first command of every pooled connection after a drop failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accounts, api, login, redis } from './lib.mjs';

test('after Redis closes every client link, each logout still revokes its token at once', async () => {
  const demo = accounts();
  const names = Object.keys(demo).slice(0, 4);
  assert.ok(names.length >= 2, 'demo accounts');
  const answers = [];
  for (let round = 0; round < 2; round++) {
    for (const name of names) {
      const { res, body } = await login(name, demo[name].password);
      assert.equal(res.status, 200, `login of ${name}`);
      // a few reads so that several workers of the services hold a Redis link
      for (let i = 0; i < 4; i++) await api('GET', '/api/v1/auth/me', body.access_token);
      const killed = Number(redis('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'));
      assert.ok(killed > 0, 'the services had links to drop');
      const out = await api('POST', '/api/v1/auth/logout', body.access_token, { refresh_token: body.refresh_token });
      answers.push(out.status);
      assert.equal(out.status, 204, `logout of ${name} after the drop: ${await out.text()}`);
      // at once: within 60 ms (the PUBLISH may still be in a socket when the next request is
      // read); the old feed, which lost its subscription with the idle link, missed it for its
      // reconnect backoff (100 ms and more)
      const until = Date.now() + 60;
      let st;
      do st = (await api('GET', '/api/v1/auth/me', body.access_token)).status; while (st !== 401 && Date.now() < until);
      assert.equal(st, 401, 'the token is dead at once');
    }
  }
  assert.deepEqual([...new Set(answers)], [204]);
});
